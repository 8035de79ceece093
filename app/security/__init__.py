"""Cryptography for Jidu: pure functions, no Flask, every decision documented."""
