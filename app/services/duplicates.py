"""Likely duplicates: same agency (or department), similar words, recent.

Chinese has no spaces, so text is segmented with jieba before comparing; the
similarity is the Jaccard index of the two word sets, without punctuation
and one-character particles.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

import jieba
from sqlalchemy import or_, select

from app.models import Clue, ClueStatus
from app.services.types import DbSession

jieba.setLogLevel(logging.WARNING)
WINDOW = timedelta(days=90)
THRESHOLD = 0.35
CANDIDATES = 200
_WORD = re.compile(r"[\w]", re.UNICODE)


@dataclass(frozen=True)
class Candidate:
    clue: Clue
    score: float


@lru_cache(maxsize=4096)
def words(text: str) -> frozenset[str]:
    return frozenset(w for w in jieba.cut_for_search(text) if len(w) > 1 and _WORD.search(w))


def similarity(a: str, b: str) -> float:
    wa, wb = words(a), words(b)
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / len(wa | wb)


def likely_duplicates(session: DbSession, clue: Clue, *, limit: int = 5) -> list[Candidate]:
    same_place = [Clue.agency == clue.agency]
    if clue.department_code:
        same_place.append(Clue.department_code == clue.department_code)
    rows = session.scalars(
        select(Clue).where(
            Clue.id != clue.id, Clue.status != ClueStatus.MERGED, or_(*same_place),
            Clue.created_at >= clue.created_at - WINDOW,
            Clue.created_at <= clue.created_at + WINDOW,
        ).order_by(Clue.created_at.desc()).limit(CANDIDATES)
    )
    scored = [Candidate(other, similarity(clue.description, other.description)) for other in rows]
    return sorted((c for c in scored if c.score >= THRESHOLD), key=lambda c: -c.score)[:limit]
