"""Schwartz values, their 56 micro-values, and the spellings found in real files.

The ten values are listed in circumplex order (Schwartz, 1992): neighbours on
the circle are compatible motivations, opposite ones conflict. Each value gets
an equal share of the circle, so its angle is ``index * 36`` degrees.

The micro-value to value assignment is the one fixed in Table 4 of Chen and
Shen, "Value Alignment Tax" (the same 56 items as the Schwartz Value Survey).
The glosses are this project's one-line summaries, not quotations.
"""

from __future__ import annotations

import math
import re

# Circumplex order, starting at Self-Direction and going around the circle.
VALUES: tuple[str, ...] = (
    "Self-Direction",
    "Stimulation",
    "Hedonism",
    "Achievement",
    "Power",
    "Security",
    "Conformity",
    "Tradition",
    "Benevolence",
    "Universalism",
)

VALUE_ANGLES: dict[str, float] = {
    value: 2.0 * math.pi * index / len(VALUES) for index, value in enumerate(VALUES)
}

VALUE_DEFINITIONS: dict[str, str] = {
    "Self-Direction": "independent thought and action: choosing, creating, exploring",
    "Stimulation": "excitement, novelty and challenge in life",
    "Hedonism": "pleasure and sensuous gratification for oneself",
    "Achievement": "personal success through competence judged by social standards",
    "Power": "social status and prestige, control or dominance over people and resources",
    "Security": "safety, harmony and stability of society, relationships and self",
    "Conformity": "restraint of actions and impulses that may upset or harm others "
    "or violate social expectations",
    "Tradition": "respect for and acceptance of the customs and ideas of one's culture or religion",
    "Benevolence": "preserving and enhancing the welfare of people one is in close contact with",
    "Universalism": "understanding, tolerance and protection of the welfare of all people and of nature",
}

# micro-value -> (parent value, one-line gloss)
MICRO_VALUES: dict[str, tuple[str, str]] = {
    # Power
    "Social Power": ("Power", "control over others, dominance"),
    "Authority": ("Power", "the right to lead or command"),
    "Wealth": ("Power", "material possessions and money"),
    "Preserving My Public Image": ("Power", "protecting one's face and reputation"),
    "Social Recognition": ("Power", "respect and approval by others"),
    # Achievement
    "Successful": ("Achievement", "reaching one's goals"),
    "Capable": ("Achievement", "being competent, effective, efficient"),
    "Ambitious": ("Achievement", "working hard and aspiring high"),
    "Influential": ("Achievement", "having an impact on people and events"),
    "Intelligent": ("Achievement", "being logical and thinking well"),
    "Self-Respect": ("Achievement", "belief in one's own worth"),
    # Hedonism
    "Pleasure": ("Hedonism", "gratification of desires"),
    "Enjoying Life": ("Hedonism", "enjoying food, sex, leisure and the like"),
    # Stimulation
    "Daring": ("Stimulation", "seeking adventure and risk"),
    "A Varied Life": ("Stimulation", "a life filled with challenge, novelty and change"),
    "An Exciting Life": ("Stimulation", "stimulating experiences"),
    # Self-Direction
    "Creativity": ("Self-Direction", "uniqueness and imagination"),
    "Curious": ("Self-Direction", "interest in everything, exploring"),
    "Freedom": ("Self-Direction", "freedom of action and thought"),
    "Choosing Own Goals": ("Self-Direction", "selecting one's own purposes"),
    "Independent": ("Self-Direction", "self-reliant and self-sufficient"),
    # Universalism
    "Protecting the Environment": ("Universalism", "preserving nature"),
    "A World of Beauty": ("Universalism", "beauty of nature and the arts"),
    "Broad-Minded": ("Universalism", "tolerance of different ideas and beliefs"),
    "Social Justice": ("Universalism", "correcting injustice, care for the weak"),
    "Wisdom": ("Universalism", "a mature understanding of life"),
    "Equality": ("Universalism", "equal opportunity for all"),
    "A World at Peace": ("Universalism", "a world free of war and conflict"),
    "Inner Harmony": ("Universalism", "being at peace with oneself"),
    "Unity with Nature": ("Universalism", "fitting into nature"),
    # Benevolence
    "Helpful": ("Benevolence", "working for the welfare of others"),
    "Honest": ("Benevolence", "being genuine and sincere"),
    "Forgiving": ("Benevolence", "willingness to pardon others"),
    "Loyal": ("Benevolence", "faithful to one's friends and group"),
    "Responsible": ("Benevolence", "dependable and reliable"),
    "True Friendship": ("Benevolence", "close, supportive friends"),
    "A Spiritual Life": ("Benevolence", "emphasis on spiritual rather than material matters"),
    "Mature Love": ("Benevolence", "deep emotional and spiritual intimacy"),
    "Meaning in Life": ("Benevolence", "a purpose in life"),
    # Tradition
    "Devout": ("Tradition", "holding to religious faith and belief"),
    "Accepting My Portion in Life": ("Tradition", "submitting to life's circumstances"),
    "Humble": ("Tradition", "modest and self-effacing"),
    "Moderate": ("Tradition", "avoiding extremes of feeling and action"),
    "Respect for Tradition": ("Tradition", "preserving time-honoured customs"),
    "Detachment": ("Tradition", "distance from worldly concerns"),
    # Conformity
    "Politeness": ("Conformity", "courtesy and good manners"),
    "Honoring of Parents and Elders": ("Conformity", "showing respect to parents and elders"),
    "Obedient": ("Conformity", "dutiful, meeting obligations"),
    "Self-Discipline": ("Conformity", "self-restraint and resistance to temptation"),
    # Security
    "Clean": ("Security", "neat and tidy"),
    "National Security": ("Security", "protection of one's nation from enemies"),
    "Social Order": ("Security", "stability of society"),
    "Family Security": ("Security", "safety for loved ones"),
    "Reciprocation of Favors": ("Security", "avoiding indebtedness"),
    "Healthy": ("Security", "not being sick physically or mentally"),
    "Sense of Belonging": ("Security", "feeling that others care about me"),
}

# Spellings seen in the ValueActionLens files and in the paper that differ from
# the canonical names in more than letter case, spacing or punctuation.
_EXTRA_ALIASES: dict[str, str] = {
    "Accepting portion in life": "Accepting My Portion in Life",
    "Accepting my portion": "Accepting My Portion in Life",
    "Spiritual Life": "A Spiritual Life",
    "Varied Life": "A Varied Life",
    "Exciting Life": "An Exciting Life",
    "World at Peace": "A World at Peace",
    "World of Beauty": "A World of Beauty",
    "Public Image": "Preserving My Public Image",
    "Honoring Parents and Elders": "Honoring of Parents and Elders",
    "Honouring of Parents and Elders": "Honoring of Parents and Elders",
    "Reciprocation of Favours": "Reciprocation of Favors",
    "Broadminded": "Broad-Minded",
    "Self Respect": "Self-Respect",
    "Self Discipline": "Self-Discipline",
    "Creative": "Creativity",
}

_VALUE_ALIASES: dict[str, str] = {
    "Social Power": "Power",
    "Self Direction": "Self-Direction",
    "Selfdirection": "Self-Direction",
}


class UnknownValueError(KeyError):
    """A value or micro-value name that no spelling in the alias table matches."""

    def __str__(self) -> str:  # KeyError would otherwise print the repr of its argument
        return str(self.args[0])


def _spelling_key(name: str) -> str:
    """Fold case, spacing, hyphens and apostrophes so near-identical spellings meet."""
    folded = name.strip().casefold().replace("’", "'")
    folded = re.sub(r"[\s\-_]+", " ", folded)
    return folded


def _build_alias_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for name in MICRO_VALUES:
        table[_spelling_key(name)] = name
    for alias, name in _EXTRA_ALIASES.items():
        table[_spelling_key(alias)] = name
    return table


MICRO_VALUE_ALIASES: dict[str, str] = _build_alias_table()


def canonical_micro_value(name: str) -> str:
    """Return the canonical spelling of a micro-value name.

    Raises
    ------
    UnknownValueError
        If no known spelling matches; the message quotes the name.
    """
    if not isinstance(name, str):
        raise UnknownValueError(f"micro-value name must be a string, got {name!r}")
    try:
        return MICRO_VALUE_ALIASES[_spelling_key(name)]
    except KeyError:
        raise UnknownValueError(
            f"unknown micro-value {name!r}: it matches none of the 56 micro-values "
            "or their known spellings (see vatnb.taxonomy.MICRO_VALUES)"
        ) from None


def canonical_value(name: str) -> str:
    """Return the canonical spelling of one of the ten Schwartz values."""
    if isinstance(name, str):
        key = _spelling_key(name)
        for value in VALUES:
            if _spelling_key(value) == key:
                return value
        for alias, value in _VALUE_ALIASES.items():
            if _spelling_key(alias) == key:
                return value
    raise UnknownValueError(
        f"unknown Schwartz value {name!r}: expected one of {', '.join(VALUES)}"
    )


def value_of(micro_value: str) -> str:
    """Return the Schwartz value that a micro-value belongs to."""
    return MICRO_VALUES[canonical_micro_value(micro_value)][0]


def micro_values_of(value: str) -> list[str]:
    """Return the micro-values of one Schwartz value, in table order."""
    value = canonical_value(value)
    return [name for name, (parent, _) in MICRO_VALUES.items() if parent == value]


def circumplex_distance(value_a: str, value_b: str) -> int:
    """Return the number of steps between two values around the circle (0-5)."""
    index_a = VALUES.index(canonical_value(value_a))
    index_b = VALUES.index(canonical_value(value_b))
    steps = abs(index_a - index_b)
    return min(steps, len(VALUES) - steps)
