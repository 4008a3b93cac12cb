"""What the extractive ranking knows of a language: stopwords and the cue phrases of decisions and actions.

English and French have their own lists; any other language gets no stopwords (ranking falls back to
frequency over longer words) and English cues, so it still works, only less well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_EN_STOPWORDS = """
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have having
he her here hers herself him himself his how i if in into is it its itself just let lets let's me more
most my myself no nor not now of off on once only or other our ours ourselves out over own same she
should so some such than that that's the their theirs them themselves then there these they this those
through to too under until up very was we were what when where which while who whom why will with would
you your yours yourself yourselves yeah yes okay ok oh um uh like really think know going get got go
well right one thing things bit lot maybe actually just said say says also still need needs
next end week weeks month months today tomorrow monday tuesday wednesday thursday friday saturday sunday
""".split()

_FR_STOPWORDS = """
a à au aux avec ce ces cet cette dans de des du elle elles en et eux il ils je la le les leur leurs
lui ma mais me même mes moi mon ne nos notre nous on ou où par pas pour qu que qui sa se ses son sur
ta te tes toi ton tu un une vos votre vous c d j l m n s t y été être avoir ai as avons avez ont est
sont était fait faire comme plus moins très bien aussi alors donc oui non ça cela ceci tout tous toute
toutes rien quelque quelqu quelqu'un encore si sans sous entre vers chez puis là ici va vais doit
peut peu leur dont celui celle ceux celles lors après avant ainsi déjà
prochain prochaine fin semaine mois demain lundi mardi mercredi jeudi vendredi samedi dimanche
""".split()


@dataclass(frozen=True)
class Cues:
    """Compiled cue patterns of one language."""

    stopwords: frozenset[str]
    decision: re.Pattern[str]
    action: re.Pattern[str]
    date: re.Pattern[str]
    # a short sentence that marks the one before it ("Let's write that down as an action item.")
    decision_marker: re.Pattern[str]
    action_marker: re.Pattern[str]
    # "Maria will ...", "Julien va ...": the owner before the verb
    owner: re.Pattern[str]


def _words(*phrases: str) -> str:
    return "|".join(phrases)


_EN = Cues(
    stopwords=frozenset(_EN_STOPWORDS),
    decision=re.compile(
        r"\b("
        + _words(
            r"decid\w*",
            r"decision",
            r"agreed",
            r"agree to",
            r"approv\w*",
            r"settles? it",
            r"settled",
            r"we(?:'ll| will) go with",
            r"let's go with",
            r"final(?:ly|ized)?",
            r"resolved",
            r"conclu\w+",
            r"signed off",
            r"chose",
            r"chosen",
        )
        + r")\b",
        re.IGNORECASE,
    ),
    action=re.compile(
        r"\b("
        + _words(
            r"will",
            r"'ll",
            r"needs? to",
            r"has to",
            r"have to",
            r"should",
            r"must",
            r"is going to",
            r"are going to",
            r"action item",
            r"to do",
            r"todo",
            r"follow up",
            r"take care of",
            r"own(?:s)?",
            r"responsible",
            r"assign\w*",
            r"send",
            r"review",
            r"update",
            r"prepare",
            r"schedule",
        )
        + r")\b",
        re.IGNORECASE,
    ),
    date=re.compile(
        r"\b("
        + _words(
            r"(?:next |this |by |before |on )?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)",
            r"tomorrow",
            r"today",
            r"tonight",
            r"next (?:week|month|quarter|sprint|year)",
            r"this (?:week|month|quarter|sprint)",
            r"(?:by |before )?the end of (?:the )?\w+",
            r"after the \w+",
            r"(?:january|february|march|april|may|june|july|august|september|"
            r"october|november|december)(?: \d{1,2})?",
            r"eod",
            r"asap",
            r"in (?:two|three|\d+) (?:days|weeks)",
        )
        + r")\b",
        re.IGNORECASE,
    ),
    decision_marker=re.compile(
        r"^(that is the decision|that's the decision|i think that settles it|decision made|"
        r"so that's decided|agreed\b|it's decided)",
        re.IGNORECASE,
    ),
    action_marker=re.compile(
        r"^(let's write that down as an action item|let's add that as an action|please add it to the notes|"
        r"that's an action item|action item)",
        re.IGNORECASE,
    ),
    owner=re.compile(
        r"^((?:the )?[A-Z][\w'-]*(?: [A-Za-z][\w'-]*){0,2}?)\s+(?:will|'ll|needs to|has to|should|must|"
        r"agreed to|is going to|is still|has finished|takes|owns)\b"
    ),
)

_FR = Cues(
    stopwords=frozenset(_FR_STOPWORDS),
    decision=re.compile(
        r"\b("
        + _words(
            r"décid\w*",
            r"décision",
            r"d'accord",
            r"convenu",
            r"valid\w*",
            r"approuv\w*",
            r"réglé",
            r"tranché",
            r"on part sur",
            r"on retient",
            r"arrêté",
            r"choisi",
            r"conclu\w*",
            r"acté",
        )
        + r")\b",
        re.IGNORECASE,
    ),
    action=re.compile(
        r"\b("
        + _words(
            r"va",
            r"vont",
            r"doit",
            r"doivent",
            r"devrait",
            r"devra",
            r"faut",
            r"prend en charge",
            r"s'occupe\w*",
            r"s'en charge",
            r"action",
            r"à faire",
            r"relire",
            r"envoyer",
            r"mettre à jour",
            r"préparer",
            r"planifier",
            r"responsable",
            r"se charge",
        )
        + r")\b",
        re.IGNORECASE,
    ),
    date=re.compile(
        r"\b("
        + _words(
            r"(?:avant |d'ici |dès |le )?(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)"
            r"(?: prochain)?",
            r"demain",
            r"aujourd'hui",
            r"ce soir",
            r"(?:la semaine|le mois|le trimestre|le sprint) prochain\w*",
            r"(?:d'ici |avant )?la fin (?:du|de la|de l') ?\w+",
            r"après la \w+",
            r"(?:janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|"
            r"décembre)",
            r"dans (?:deux|trois|\d+) (?:jours|semaines)",
        )
        + r")\b",
        re.IGNORECASE,
    ),
    decision_marker=re.compile(
        r"^(c'est donc décidé|c'est décidé|je pense que c'est réglé|c'est réglé|c'est acté|décision prise)",
        re.IGNORECASE,
    ),
    action_marker=re.compile(
        r"^(notons-le comme action|on le note comme action|à noter dans le compte rendu|action)",
        re.IGNORECASE,
    ),
    owner=re.compile(
        r"^((?:l'|le |la |les |notre |nos )?[\w'-]+(?: [\w'-]+){0,2}?)\s+"
        r"(?:va|vont|doit|doivent|devrait|devra|prend en charge|s'occupe|se charge|a terminé|bloque)\b"
    ),
)

_CUES = {"en": _EN, "fr": _FR}

# Words the owner patterns catch that name nobody: pronouns and question words ("I will...", "Who is
# going to...", "On va..."). An action item says no owner rather than "owner: I".
NOT_OWNERS = frozenset(
    "i we you he she it they who what which someone somebody everyone everybody nobody this that there "
    "je tu il elle on nous vous ils elles qui quoi quelqu'un personne tout ça cela ce".split()
)


def real_owner(name: str | None) -> str | None:
    """The owner as spoken, or None when it is a pronoun or a question word."""
    if name is None or not name.strip() or name.strip().lower() in NOT_OWNERS:
        return None
    return name.strip()


LANGUAGE_NAMES = {
    "en": "English",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "pl": "Polish",
    "ru": "Russian",
    "ja": "Japanese",
    "zh": "Chinese",
    "ko": "Korean",
}


def cues_for(language: str | None) -> Cues:
    """The cue patterns of a language; English cues and no stopwords for languages without lists."""
    if language in _CUES:
        return _CUES[language]
    return Cues(
        stopwords=frozenset(),
        decision=_EN.decision,
        action=_EN.action,
        date=_EN.date,
        decision_marker=_EN.decision_marker,
        action_marker=_EN.action_marker,
        owner=_EN.owner,
    )


def language_name(language: str | None) -> str:
    """The English name of a language code, for prompts ("French"); the code itself when unknown."""
    return LANGUAGE_NAMES.get(language or "en", language or "English")
