"""Which words carry content, in English and French: stop words, elision, and what may name an owner.

Used by the ranking (a sentence's terms), by every keyword list a summary prints (chapter titles,
"mostly about ..."), and by the sanity rules that check a summary. A French token loses its elided
article or pronoun first ("l'autre" -> "autre", "qu'on" -> "on", "d'assumer" -> "assumer"), then
the bare word is looked up: "c'est", "qu'on", "l'autre" are function words, "d'assumer" reads as
"assumer". Spoken fillers ("um", "euh", "voilà") count as stop words too.
"""

from __future__ import annotations

import re
import unicodedata

_EN = """
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have having
he her here hers herself him himself his how i if in into is it its itself just let lets let's me more
most my myself no nor not now of off on once only or other our ours ourselves out over own same she
should so some such than that that's the their theirs them themselves then there these they this those
through to too under until up very was we were what when where which while who whom why will with would
you your yours yourself yourselves yeah yes okay ok oh um uh hmm mhm like really think know going get got
go well right one two three thing things bit lot lots maybe actually said say says still need needs
next end week weeks month months today tomorrow yesterday monday tuesday wednesday thursday friday
saturday sunday it's i'm i'll i've i'd you're you've you'll you'd we're we've we'll we'd they're they've
they'll they'd he's she's there's here's what's who's where's how's isn't aren't wasn't weren't don't
doesn't didn't won't wouldn't can't cannot couldn't shouldn't haven't hasn't hadn't gonna wanna gotta
kind sort stuff something anything everything nothing someone anyone everyone always never ever much
many even back way want wants make makes made take takes come comes see look looks put give mean means
try tell told ask let's sure anyway though although yet already again else every another first last
new good great fine thanks thank please sorry hello hi bye around quite pretty enough little less
""".split()

_FR = """
a à au aux avec ce ces cet cette dans de des du elle elles en et eux il ils je la le les leur leurs
lui ma mais me même mêmes mes moi mon ne nos notre nous on ou où par pas pour qu que qui sa se ses son
sur ta te tes toi ton tu un une vos votre vous c d j l m n s t y été être avoir ai as avons avez ont
est sont était étaient fait faire comme plus moins très bien aussi alors donc oui non ça cela ceci
tout tous toute toutes rien quelque quelques quelqu quelqu'un encore si sans sous entre vers chez puis
là ici va vais vas allons allez vont doit peut peu dont celui celle ceux celles lors après avant
ainsi déjà prochain prochaine fin semaine mois demain hier lundi mardi mercredi jeudi vendredi samedi
dimanche c'est aujourd'hui maintenant surtout vraiment juste chose choses fois beaucoup trop assez
toujours jamais parce quand comment pourquoi quoi quel quelle quels quelles autre autres suis es
sommes êtes sera seront serait seraient avait avaient aura auront aurait eu dit dire dis voir vu
aller vient viens venir euh heu ben bah hein voilà bon ouais enfin ah oh pareil peut-être d'accord
accord mot mots truc trucs gens monsieur madame merci bonjour bonsoir voici chaque certains certaines
plusieurs tel telle tels telles lequel laquelle lesquels duquel auquel depuis pendant contre selon
comme cela cet celui-ci celle-ci ceux-ci là-bas ya y'a faut falloir veut veux voulez vouloir pouvoir
peuvent pouvez sais savoir crois pense penser dire disait disent fois un deux trois première premier
""".split()

STOPWORDS = {"en": frozenset(_EN), "fr": frozenset(_FR)}
# "l'", "qu'", "jusqu'": the elided word before an apostrophe; both apostrophes Whisper writes
_ELISION = re.compile(r"^(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu|quoiqu)['\u2019]", re.IGNORECASE)
_TOKEN = re.compile(r"[^\W\d_][\w'\u2019-]*", re.UNICODE)
# what may open an owner's name ("the platform team", "l'équipe produit", "notre graphiste")
DETERMINERS = frozenset("the our their my your a an le la les l' notre nos votre leur mon ma un une".split())
# words that name nobody: an action item says no owner rather than "owner: I"
NOT_OWNERS = frozenset(
    "i we you he she it they who what which someone somebody everyone everybody nobody this that there "
    "me us him them "
    "je tu il elle on nous vous ils elles qui quoi quelqu'un personne tout ça cela ce moi toi lui eux".split()
)


def stopwords(language: str | None) -> frozenset[str]:
    """The stop words of a language (empty for languages without a list)."""
    return STOPWORDS.get(language or "", frozenset())


def bare(token: str) -> str:
    """A token lower-cased, its apostrophe normalised and its elided article or pronoun removed."""
    word = token.casefold().replace("\u2019", "'").strip("'-")
    return _ELISION.sub("", word).strip("'-")


def tokens(text: str) -> list[str]:
    """The word tokens of a text, as written (apostrophes and hyphens kept inside words)."""
    return _TOKEN.findall(text)


def is_content(token: str, stop: frozenset[str]) -> bool:
    """A word worth keeping as a keyword: not a stop word, before or after elision, and long enough."""
    whole = token.casefold().replace("\u2019", "'").strip("'-")
    word = bare(token)
    minimum = 3 if stop else 4
    return len(word) >= minimum and whole not in stop and word not in stop and not word.isdigit()


def terms(text: str, stop: frozenset[str]) -> list[str]:
    """The content words of a text, bare (elision removed), in order."""
    return [bare(t) for t in tokens(text) if is_content(t, stop)]


def content_words(text: str, language: str | None) -> list[str]:
    """The content words of a text in a language (see terms)."""
    return terms(text, stopwords(language))


def fold(text: str) -> str:
    """Lower case without accents: "Échéance" -> "echeance"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def real_owner(name: str | None, language: str | None = None) -> str | None:
    """The owner as spoken, or None when it names nobody.

    A pronoun or question word ("I", "Who", "on") is nobody; so is a fragment with a function word in
    it ("And still he", "So maybe we"): after an optional determiner ("the", "l'", "notre") every
    word must carry content or be capitalised like a name; at most five words.
    """
    if name is None or not name.strip():
        return None
    text = name.strip().strip(",.;:")
    if text.casefold() in NOT_OWNERS:
        return None
    words = text.replace("\u2019", "'").split()
    if not words or len(words) > 5:
        return None
    first = words[0].casefold()
    if first in DETERMINERS:
        words = words[1:]
    elif first.startswith(("l'", "d'")) and len(first) > 2:
        words = [words[0][2:], *words[1:]]
    if not words:
        return None
    every = STOPWORDS["en"] | STOPWORDS["fr"] if language is None else stopwords(language)
    for word in words:
        folded = word.casefold()
        if folded in NOT_OWNERS or folded in every:
            return None
    return text
