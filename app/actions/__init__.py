"""Improvement actions (客户满意度改进): what was decided to improve product, service or brand,
who owns it, by when, what caused it (issues, voices) and whether it worked (the chosen metric
before and after)."""
