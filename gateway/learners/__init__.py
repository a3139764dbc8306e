"""Learners as the consortium knows them: links to members, consent records, access reports."""
