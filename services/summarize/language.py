"""What the extractive ranking knows of a language: stopwords and the cue phrases of decisions and actions.

English and French have their own lists; any other language gets no stopwords (ranking falls back to
frequency over longer words) and English cues, so it still works, only less well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.summarize.words import STOPWORDS, real_owner

__all__ = ["Cues", "cues_for", "language_name", "real_owner"]


@dataclass(frozen=True)
class Cues:
    """Compiled cue patterns of one language."""

    stopwords: frozenset[str]
    decision: re.Pattern[str]
    action: re.Pattern[str]  # a modal or future: "will", "needs to", "va", "doit"
    task: re.Pattern[str]  # a task's verb without one ("send", "envoyer"): an action only with an owner
    date: re.Pattern[str]
    # a short sentence that marks the one before it ("Let's write that down as an action item.")
    decision_marker: re.Pattern[str]
    action_marker: re.Pattern[str]
    # "Maria will ...", "Julien va ...": the owner before the verb
    owner: re.Pattern[str]
    # what keeps a sentence from committing: a hypothesis, a doubt, a decision not (yet) taken
    tentative: re.Pattern[str]
    # "I'll update the sheet", "Je m'en occupe": the speaker takes the task
    self_owner: re.Pattern[str]
    # "Jonas, can you book the room?": a request to someone, named or not
    request: re.Pattern[str]
    # "Yes, I will do it.": accepting the request before it
    accept: re.Pattern[str]
    # "Action for Helen: send the contract ...": a task and its owner, said as a note
    assigned: re.Pattern[str]


def _words(*phrases: str) -> str:
    return "|".join(phrases)


_EN = Cues(
    stopwords=STOPWORDS["en"],
    decision=re.compile(
        r"\b("
        + _words(
            r"decid\w*",
            r"(?:the|our|my|that's the|that is the) decision (?:is|was)",
            r"decision made",
            r"agreed",
            r"agree to",
            r"approved",
            r"settles? it",
            r"settled",
            r"we(?:'ll| will) go with",
            r"let's go with",
            r"let's do (?:that|it|this)",
            r"(?:good|fine|okay|ok|right|great),? (?:so )?we (?!could|might|should|need)\w+ .+ then",
            r"finali[sz]ed",
            r"resolved",
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
            r"take care of",
            r"responsible for",
            r"in charge of",
        )
        + r")\b",
        re.IGNORECASE,
    ),
    task=re.compile(
        r"\b("
        + _words(
            r"action item",
            r"to do",
            r"todo",
            r"follow up",
            r"owns?",
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
            r"(?:by|before|after) the (?:next |\w+day )?(?:meeting|demo|review|workshop|launch|board|call|"
            r"release|audit|deadline)",
            r"(?:next |this |by |before |on )?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
            r"(?: morning| afternoon| evening)?",
            r"tomorrow",
            r"today",
            r"tonight",
            r"next (?:week|month|quarter|sprint|year)",
            r"this (?:week|month|quarter|sprint)",
            r"(?:by |before )?the end of (?:the |this |next )?(?:day|week|month|quarter|year|sprint|summer)",
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
    tentative=re.compile(
        r"\b("
        + _words(
            r"could",
            r"might",
            r"maybe",
            r"perhaps",
            r"possibly",
            r"if",
            r"unless",
            r"would",
            r"wonder",
            r"not sure",
            r"not yet",
            r"no decision",
            r"(?:have|has|had)(?: not|n't) (?:yet )?(?:decided|agreed)",
            r"(?:not|n't) (?:decide|decided|agree|agreed)",
            r"undecided",
            r"wait for",
            r"let's wait",
            r"later",
            r"as you know",
            r"never decided",
            r"did(?: not|n't) work",
            r"depends? on",
            r"will depend",
            r"last (?:year|time|month|week|quarter)",
            r"ago",
            r"used to",
            r"(?:I will|I'll|I must|I have to|I need to) (?:be honest|admit|say)",
            r"(?:will|'ll) be (?!in charge|responsible)",
            r"let's not",
            r"ideally",
        )
        + r")\b",
        re.IGNORECASE,
    ),
    self_owner=re.compile(
        r"^(?:(?:ok(?:ay)?|yes|yeah|sure|fine|right|good|and|so),? )*"
        r"(?:I will|I'll|I am going to|I'm going to|I can take|I take|I'll take|let me)\b",
        re.IGNORECASE,
    ),
    request=re.compile(
        r"^(?:(?:(?P<name>[A-Z][\w'-]+(?: [A-Z][\w'-]+)?),? )?(?:can|could|would) you(?: please)?|"
        r"[Ss]ome(?:one|body) (?:has to|needs to|should|must)) (?P<task>.+?)[?.!]?$"
    ),
    accept=re.compile(
        r"^(?:(?:ok(?:ay)?|yes|yeah|sure|fine|of course|no problem|absolutely),? )+(?:I will|I'll|I can)?\b|"
        r"^(?:I will|I'll|I can) (?:do|take) (?:it|that)\b",
        re.IGNORECASE,
    ),
    assigned=re.compile(
        r"^(?:action(?: item)? for|task for|to ?do for|we(?:'d| would)? ask|let's ask|we need) "
        r"(?P<name>[^:,]+?)(?:\s*[:,]\s*| to )(?P<task>.+)$",
        re.IGNORECASE,
    ),
)

_FR = Cues(
    stopwords=STOPWORDS["fr"],
    decision=re.compile(
        r"\b("
        + _words(
            r"décid\w*",
            r"(?:la|notre) décision (?:est|c'est)",
            r"décision prise",
            r"(?:on est|sommes|tout le monde est|tous|on s'est mis|nous nous sommes mis) d'accord "
            r"(?:pour|sur)",
            r"convenu",
            r"validé\w*",
            r"on valide",
            r"approuv\w*",
            r"réglé",
            r"tranché",
            r"on part sur",
            r"on part là-dessus",
            r"on fait comme ça",
            r"on retient",
            r"arrêté",
            r"choisi",
            r"acté",
            r"convenons",
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
            r"se charge",
            r"responsable de",
        )
        + r")\b",
        re.IGNORECASE,
    ),
    task=re.compile(
        r"\b("
        + _words(
            r"action",
            r"à faire",
            r"relire",
            r"envoyer",
            r"mettre à jour",
            r"préparer",
            r"planifier",
        )
        + r")\b",
        re.IGNORECASE,
    ),
    date=re.compile(
        r"\b("
        + _words(
            r"(?:avant|après|d'ici) (?:la|le|l') ?(?:prochaine? )?(?:réunion|démo|comité|lancement|atelier|"
            r"audit|conseil|salon)(?: de (?:lundi|mardi|mercredi|jeudi|vendredi))?",
            r"(?:avant |d'ici |dès |le )?(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)"
            r"(?: prochain| matin| soir| après-midi)?",
            r"demain",
            r"aujourd'hui",
            r"ce soir",
            r"(?:la semaine|le mois|le trimestre|le sprint) prochain\w*",
            r"(?:d'ici |avant )?la fin (?:du|de la|de l'|de cette|de ce) ?(?:mois|semaine|trimestre|année|"
            r"journée|sprint|été|an)",
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
    tentative=re.compile(
        r"\b("
        + _words(
            r"pourr\w+",
            r"peut-être",
            r"si",
            r"s'il",
            r"éventuellement",
            r"je ne sais pas",
            r"pas encore",
            r"pas sûr\w*",
            r"on verra",
            r"plus tard",
            r"attend\w*",
            r"rien n'est",
            r"pas de décision",
            r"dépend\w*",
            r"l'an dernier",
            r"l'année dernière",
            r"la dernière fois",
            r"(?:avait|avions|aviez|avaient) (?:décidé|convenu|choisi)",
            r"(?:ne|n') ?(?:décid|tranch|valid)\w* pas",
            r"je (?:vais|dois) (?:être honnête|avouer|dire)",
            r"j'avoue",
            r"comme vous (?:le )?savez",
            r"jamais décidé",
            r"n'a pas marché",
            r"idéalement",
            r"(?:ne|n') ?(?:\w+ )?pas (?:décid\w*|d'accord|validé\w*)",
        )
        + r")\b",
        re.IGNORECASE,
    ),
    self_owner=re.compile(
        r"^(?:(?:ok|oui|bon|d'accord|alors|et|donc),? )*(?:je vais|je m'en (?:occupe|charge)|je m'occupe|"
        r"je me charge|je prends|je prépare\w*|j'envoie|j'enverrai|je ferai|je fais)\b",
        re.IGNORECASE,
    ),
    request=re.compile(
        r"^(?:(?:(?P<name>[A-ZÀ-Ý][\w'-]+),? )?(?:est-ce que )?(?:tu peux|peux-tu|tu pourrais|pourrais-tu|"
        r"vous pouvez|pouvez-vous|vous pourriez|pourriez-vous)(?: s'il te plaît| s'il vous plaît)?|"
        r"(?:[Ii]l faut que )?[Qq]uelqu'un (?:doit|devrait|pense|peut)(?: penser)?(?: à)?) "
        r"(?P<task>.+?) ?[?.!]?$"
    ),
    accept=re.compile(
        r"^(?:(?:oui|ok|d'accord|bien sûr|pas de problème|entendu|sans problème),? )+"
        r"(?:je (?:le fais|m'en occupe|m'en charge|vais le faire)|c'est noté)?\b|"
        r"^je (?:peux|vais) (?:le faire|m'en occuper|m'en charger)\b|"
        r"^je (?:le fais|m'en occupe|m'en charge)\b",
        re.IGNORECASE,
    ),
    assigned=re.compile(
        r"^(?:action pour|tâche pour|on demande (?:à|au|aux)|nous demandons (?:à|au|aux)) (?P<name>[^:,]+?)"
        r"(?:\s*[:,]\s*| de | d')(?P<task>.+)$",
        re.IGNORECASE,
    ),
)

_CUES = {"en": _EN, "fr": _FR}

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
        task=_EN.task,
        tentative=_EN.tentative,
        self_owner=_EN.self_owner,
        request=_EN.request,
        accept=_EN.accept,
        assigned=_EN.assigned,
    )


def language_name(language: str | None) -> str:
    """The English name of a language code, for prompts ("French"); the code itself when unknown."""
    return LANGUAGE_NAMES.get(language or "en", language or "English")
