"""Rendering plans and apply results: terminal text, JSON and Markdown.

Reports only format; they never call an API and never decide anything.
"""
