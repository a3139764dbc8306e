"""Federated credential lookup: canonical records rendered in standard credential formats."""
