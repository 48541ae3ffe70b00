"""Turning raw mail bytes into a clean, typed record: headers, text, quotes, flags."""
