"""Pathways: a learner's federated credentials held up against a member's awards (lookup + recognition)."""
