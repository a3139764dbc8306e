"""Connectors to members' student-information APIs, and the OOAPI v6 sandbox that stands in for them."""
