"""A customer's people and projects: contacts (who is surveyed), projects and their milestones
(whose completion triggers project-based surveys)."""
