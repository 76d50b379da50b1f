"""Presentation: formatting of numbers and effects, sentences, pictures and the HTML report."""
