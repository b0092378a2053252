"""The rating formulas: openskill's Plackett–Luce model in display units, idle growth, GR.

Pure functions, no I/O. The README's "Ratings" section states the same formulas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from openskill.models import PlackettLuce

# openskill's defaults (mu 25, sigma 25/3, beta 25/6, tau 25/300) scaled by 42 and shifted,
# so a newcomer sits at 1500 ± 350 like a Glicko player. Plackett–Luce is shift and scale
# invariant, so this is the same model, only in familiar numbers.
INITIAL_RATING = 1500.0
INITIAL_DEVIATION = 350.0
_MODEL = PlackettLuce(mu=INITIAL_RATING, sigma=INITIAL_DEVIATION, beta=INITIAL_DEVIATION / 2,
                      tau=INITIAL_DEVIATION / 100)

# GR counts each rating at its conservative value (mu - 2 sigma): about 97.7 % sure the skill
# is at least that high, so a lucky newcomer does not top the global board.
CONSERVATIVE_SIGMAS = 2.0


@dataclass(frozen=True, slots=True)
class Skill:
    mu: float
    sigma: float


def newcomer() -> Skill:
    return Skill(INITIAL_RATING, INITIAL_DEVIATION)


def after_idle(skill: Skill, idle_days: float, growth_per_day: float) -> Skill:
    """Uncertainty grows while a player has no rated result (Glicko's rule, capped at a newcomer's).

    sigma' = min(350, sqrt(sigma² + growth² · idle_days)).
    """
    if idle_days <= 0:
        return skill
    sigma = math.sqrt(skill.sigma ** 2 + growth_per_day ** 2 * idle_days)
    return Skill(skill.mu, min(INITIAL_DEVIATION, sigma))


def rate_placings(skills: list[Skill], places: list[int]) -> list[Skill]:
    """New skills after one multiplayer result. places: 1 is best, equal places are ties."""
    teams = [[_MODEL.rating(mu=s.mu, sigma=s.sigma)] for s in skills]
    rated = _MODEL.rate(teams, ranks=[float(p) for p in places])
    return [Skill(team[0].mu, team[0].sigma) for team in rated]


def global_rating(sr: Skill, mr: Skill) -> float:
    """GR: the conservative SR and MR, each weighted by its precision (1 / sigma²).

    The rating a player has proven more of counts more: a pure tournament player's GR follows
    SR, an all-rounder's blends both. A newcomer's GR is 1500 - 2·350 = 800.
    """
    weights = (1 / sr.sigma ** 2, 1 / mr.sigma ** 2)
    conservative = (sr.mu - CONSERVATIVE_SIGMAS * sr.sigma, mr.mu - CONSERVATIVE_SIGMAS * mr.sigma)
    return (weights[0] * conservative[0] + weights[1] * conservative[1]) / sum(weights)
