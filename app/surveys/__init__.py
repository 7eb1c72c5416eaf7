"""Satisfaction surveys (满意度调查): design, campaigns, invitations, answers, measurement."""
