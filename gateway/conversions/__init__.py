"""Conversions of credits, levels and grades between frameworks, over HTTP and the command line."""
