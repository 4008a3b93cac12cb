"""The prompts, in the transcript's language: a French recording is summarised by a French prompt.

Other languages get the English prompt with an instruction to write in that language.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.summarize.language import language_name

_SHAPE = (
    '{"title": str, "overview": str, "key_points": [str], "decisions": [{"text": str, "at": "H:MM:SS"}], '
    '"action_items": [{"text": str, "owner": str|null, "due": str|null, "at": "H:MM:SS"}], '
    '"chapters": [{"title": str, "at": "H:MM:SS"}], "speakers": [{"speaker": str, "contribution": str}]}'
)

_EN = {
    "system": (
        "You write accurate, concise meeting summaries. You answer with one JSON object and nothing else."
    ),
    "salient": (
        "A {duration} recording with {speakers} speaker(s) ({speaker_ids}). Below: its most informative "
        "sentences, picked from the whole recording, in time order; then its decisions (D...) and action "
        "items (A...), numbered; then its chapters (C...) with their keywords.\n"
        "Write one JSON object, every text in {language}:\n"
        "- title: a short title naming what the recording is about (never just 'Meeting summary'); "
        "overview: 3 or 4 sentences on the whole recording; key_points: at most 6 facts the sentences "
        "state (who, what, figures, dates), one short sentence each, never about the recording itself;\n"
        "- items: for EVERY number D... and A...: the decision or the task in one short sentence, with "
        "the person or team who does it and the deadline when the sentence names them;\n"
        "- chapters: for every C..., a title of 3 to 6 words;\n"
        "- speakers: for every speaker, one sentence on what they brought.\n"
        "Use only facts from the text below.\n\n"
        "Sentences:\n{passages}\n\nDecisions and action items:\n{items}\n\nChapters:\n{chapters}"
    ),
    "map": (
        "Below is part {part} of {parts} of a transcript, each line with its timestamp and speaker.\n"
        "Summarise this part in {language}. Answer with one JSON object of this shape:\n{shape}\n"
        "Rules: use only facts from this part; 'at' is the timestamp of the line it comes from; "
        "every decision and every action item (with owner and due date when said). A decision is what the "
        "speakers settled, not a proposal, a question or a decision of the past; an action item is a task "
        "someone took on; owner is the person or team named, or the speaker label of who took it on, never "
        "a pronoun; when there are none, []. Key points and chapter titles say what was said, with content "
        "words.\n\nTranscript:\n{passages}"
    ),
    "reduce": (
        "Below are the summaries of the {parts} consecutive parts of one {duration} recording, as JSON.\n"
        "Merge them into one summary of the whole recording in {language}, of the same JSON shape:\n{shape}\n"
        "Rules: keep the decisions and action items of every part, the last parts as much as the first; "
        "merge duplicates; key_points at most 8; chapters in time order; keep each 'at'.\n\n{passages}"
    ),
    "repair": (
        "Your answer was not a valid JSON object of the requested shape ({error}). "
        "Answer again with the corrected JSON object only."
    ),
}

_FR = {
    "system": (
        "Tu rédiges des comptes rendus de réunion exacts et concis. "
        "Tu réponds par un seul objet JSON, sans rien d'autre."
    ),
    "salient": (
        "Un enregistrement de {duration} avec {speakers} intervenant(s) ({speaker_ids}). Ci-dessous : "
        "ses phrases les plus importantes, choisies sur tout l'enregistrement, dans l'ordre ; puis ses "
        "décisions (D...) et ses actions (A...), numérotées ; puis ses chapitres (C...) avec leurs "
        "mots-clés.\n"
        "Écris un objet JSON, tous les textes en français :\n"
        "- title : un titre court qui nomme le sujet (jamais seulement « Compte rendu de réunion ») ; "
        "overview : 3 ou 4 phrases sur tout l'enregistrement ; key_points : au plus 6 faits que les "
        "phrases énoncent (qui, quoi, chiffres, dates), une phrase courte chacun, jamais sur "
        "l'enregistrement lui-même ;\n"
        "- items : pour CHAQUE numéro D... et A... : la décision ou la tâche en une phrase courte, avec "
        "la personne ou l'équipe qui s'en charge et l'échéance quand la phrase les nomme ;\n"
        "- chapters : pour chaque C..., un titre de 3 à 6 mots ;\n"
        "- speakers : pour chaque intervenant, une phrase sur son apport.\n"
        "Uniquement des faits tirés du texte ci-dessous.\n\n"
        "Phrases :\n{passages}\n\nDécisions et actions :\n{items}\n\nChapitres :\n{chapters}"
    ),
    "map": (
        "Voici la partie {part} sur {parts} d'une transcription, chaque ligne avec son horodatage et "
        "son intervenant.\nRésume cette partie en français. Réponds par un objet JSON de cette forme :\n"
        "{shape}\nRègles : uniquement des faits de cette partie ; 'at' est l'horodatage de la ligne "
        "d'origine ; toutes les décisions et toutes les actions (avec responsable et échéance quand "
        "elles sont dites). Une décision est ce que les intervenants ont arrêté, pas une proposition, une "
        "question ni une décision passée ; une action est une tâche que quelqu'un a prise ; le responsable "
        "est la personne ou l'équipe nommée, ou l'étiquette de l'intervenant qui l'a prise, jamais un "
        "pronom ; s'il n'y en a pas, []. Points clés et titres de chapitres disent ce qui a été dit, avec "
        "des mots de contenu.\n\nTranscription :\n{passages}"
    ),
    "reduce": (
        "Voici, en JSON, les résumés des {parts} parties successives d'un enregistrement de {duration}.\n"
        "Fusionne-les en un seul résumé de tout l'enregistrement, en français, de la même forme JSON :\n"
        "{shape}\nRègles : garde les décisions et les actions de chaque partie, les dernières autant "
        "que les premières ; fusionne les doublons ; au plus 8 key_points ; chapters dans l'ordre ; "
        "garde chaque 'at'.\n\n{passages}"
    ),
    "repair": (
        "Ta réponse n'était pas un objet JSON valide de la forme demandée ({error}). "
        "Réponds de nouveau avec l'objet JSON corrigé, et rien d'autre."
    ),
}


# The job's vocabulary (JobOptions.vocabulary): one line after the instructions, so a small model
# copies the spelling; at most VOCABULARY_CHARS of terms, those the transcript says first.
VOCABULARY_CHARS = 400
_VOCABULARY = {
    "en": (
        "The transcript may misspell these names and terms: wherever you write one of them, spell it "
        "exactly as here: {terms}."
    ),
    "fr": (
        "La transcription peut mal écrire ces noms et ces termes : quand tu en écris un, écris-le "
        "exactement comme ici : {terms}."
    ),
}


def vocabulary_terms(terms: Sequence[str], said: str, limit: int = VOCABULARY_CHARS) -> list[str]:
    """The terms for the prompt: those `said` (the transcript) holds, in any case, then the others,
    in the job's order, as many as fit in `limit` characters."""
    folded = said.casefold()
    ordered = [t for t in terms if t.casefold() in folded] + [t for t in terms if t.casefold() not in folded]
    kept: list[str] = []
    for term in ordered:
        if len(", ".join([*kept, term])) > limit:
            break
        kept.append(term)
    return kept


def vocabulary_rule(terms: Sequence[str], language: str | None) -> str:
    """The instruction to spell the job's terms as given ("" without terms), in the summary's language."""
    if not terms:
        return ""
    return _VOCABULARY["fr" if language == "fr" else "en"].format(terms=", ".join(terms))


def with_vocabulary(user: str, rule: str) -> str:
    """A user prompt with the vocabulary rule as its last line (unchanged without one)."""
    return f"{user}\n\n{rule}" if rule else user


def prompt(kind: str, language: str | None, **values: object) -> str:
    """The prompt of one kind ("system", "salient", "map", "reduce", "repair") in the summary's language."""
    texts = _FR if language == "fr" else _EN
    return texts[kind].format(shape=_SHAPE, language=language_name(language), **values)
