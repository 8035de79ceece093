"""Evidence files: what they are (sniff), what they may not carry (scrub), the words
for both (text), and how requests that bring them are limited (request). sniff and
scrub are pure: no Flask, no database."""
