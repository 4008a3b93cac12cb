"""Generated meetings whose scripts know every decision and action item spoken, for bench/summary_eval.py.

A MeetingSpec (language, length, participants and their espeak voices, how many decisions and action
items, seed) is written into a script by a seeded generator: status updates, figures, questions and
opinions on a few agenda topics, hard negatives that cue words confuse with decisions and actions
(proposals not adopted, questions left open, tasks already done, "final" and "I will" in other senses,
conditional wishes), and the real items, stated in varied forms and spread over the whole meeting.
`plan(spec)` is the ground truth with times estimated from word counts (no audio, no espeak);
`synthesize(spec)` speaks the same script with espeak-ng into bench/audio/meetings/<name>.mp3 and
writes the truth with sample-accurate times beside it, again only when the script or voices change.

    python -m bench.meetings [--only en_standup_5 ...] [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np

from bench import generate_long
from services.assemble.transcript import Segment, Transcript, Word

Language = Literal["en", "fr"]
_T = TypeVar("_T")
AUDIO_DIR = Path("bench/audio/meetings")
SYNTH_VERSION = 1  # bump when the way a script becomes audio changes (the script itself is hashed)
# espeak's pace at 150-170 words a minute, pauses inside a sentence included (fitted on the 5-min meetings)
WORDS_PER_S = {"en": 3.3, "fr": 3.8}


@dataclass(frozen=True)
class MeetingSpec:
    """What one generated meeting is: who speaks (name, espeak voice), for how long, deciding what."""

    name: str
    language: Language
    minutes: float
    participants: tuple[tuple[str, str], ...]
    n_decisions: int
    n_actions: int
    seed: int


def _people(language: Language, names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple(zip(names, generate_long.VOICES[language], strict=False))


_EN, _FR = ("David", "Maria", "Helen", "Tom"), ("Julien", "Claire", "Marc", "Sophie")
MEETINGS: dict[str, MeetingSpec] = {
    spec.name: spec
    for spec in (
        MeetingSpec("en_standup_5", "en", 5, _people("en", _EN[:2]), 2, 3, 11),
        MeetingSpec("en_review_15", "en", 15, _people("en", _EN[:3]), 0, 0, 12),
        MeetingSpec("en_planning_30", "en", 30, _people("en", _EN), 5, 8, 13),
        MeetingSpec("en_allhands_60", "en", 60, _people("en", _EN[:3]), 8, 12, 14),
        MeetingSpec("fr_point_5", "fr", 5, _people("fr", _FR[:2]), 2, 3, 21),
        MeetingSpec("fr_bilan_12", "fr", 12, _people("fr", _FR[:3]), 0, 0, 22),
        MeetingSpec("fr_comite_30", "fr", 30, _people("fr", _FR[:3]), 4, 6, 23),
    )
}


# --- what the meetings say (all written for this bench) ---------------------------------------------


@dataclass(frozen=True)
class Choice:
    """A decision the meeting may take: its clause ("move the product launch to March") and keys."""

    clause: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Task:
    """An action item: its clause, the clause done ("sent the contract ..."), and its keys."""

    clause: str
    done: str
    keys: tuple[str, ...]


Template = tuple[str, ...]  # lines "A:text" or "B:text"; "A!" / "B!" mark the lines that state the item


@dataclass(frozen=True)
class Phrases:
    """One language's word lists and exchange templates."""

    decisions: tuple[Choice, ...]
    tasks: tuple[Task, ...]
    topics: tuple[str, ...]
    teams: tuple[tuple[str, str], ...]  # (as spoken, as the owner is written)
    dues: tuple[str, ...]
    numbers: tuple[str, ...]
    reasons: tuple[str, ...]  # slot {why}: why something is late
    progress: tuple[str, ...]  # slot {how}: how far something is
    feedback: tuple[str, ...]  # slot {heard}: what people say of it
    decided: tuple[Template, ...]  # slot {d}: the decision's clause
    assigned: tuple[tuple[str, Template], ...]  # (who owns it: "A", "B" or "team", the exchange)
    canonical_action: str  # "{owner} will {a}."
    status: tuple[Template, ...]
    negatives: tuple[Template, ...]
    transitions: tuple[str, ...]
    openings: tuple[Template, ...]
    closings: tuple[Template, ...]
    french: bool = False

    def fix(self, text: str) -> str:
        """French contractions and elisions (de le -> du, de un -> d'un); spaces collapsed."""
        text = " ".join(text.split())
        if not self.french:
            return text
        for pattern, short in _CONTRACTIONS:
            text = pattern.sub(short, text)
        return _ELISION.sub(lambda m: m.group(1)[:-1] + "'", text)


_CONTRACTIONS = [
    (re.compile(r"\bde le\b"), "du"),
    (re.compile(r"\bde les\b"), "des"),
    (re.compile(r"\bà le\b"), "au"),
    (re.compile(r"\bà les\b"), "aux"),
]
_ELISION = re.compile(r"\b([dDjJmMnNsSlL]e|[qQ]ue|[lL]a) (?=[aeiouyàâéèêîôûAEIOUÉ])")


def _choices(rows: str) -> tuple[Choice, ...]:
    return tuple(Choice(c.strip(), tuple(k.split())) for c, k in (r.split("|") for r in _rows(rows)))


def _tasks(rows: str) -> tuple[Task, ...]:
    out = []
    for row in _rows(rows):
        clause, done, keys = row.split("|")
        out.append(Task(clause.strip(), done.strip(), tuple(keys.split())))
    return tuple(out)


def _rows(block: str) -> list[str]:
    return [line.strip() for line in block.strip().splitlines() if line.strip()]


ENGLISH = Phrases(
    decisions=_choices(
        """
        move the product launch to March | launch march
        keep the current prices until the summer | prices summer
        stop the desktop version of the app | desktop version
        hire two freelance designers | freelance designers
        run the customer survey every quarter | survey quarter
        make the newsletter monthly | newsletter monthly
        hold the team offsite in Lisbon | offsite lisbon
        freeze new features until the audit is done | freeze audit
        use the green logo on the website | green logo
        close the Berlin office at the end of the year | berlin office
        give the support staff weekend shifts | weekend shifts
        start the pilot with three schools | pilot schools
        extend the free trial for students | trial students
        move the team chat to the new tool | chat tool
        print the catalogue only on request | catalogue print
        """
    ),
    tasks=_tasks(
        """
        send the contract to the client | sent the contract to the client | contract client
        book the room for the workshop | booked the room for the workshop | room workshop
        update the budget sheet | updated the budget sheet | budget sheet
        write the release notes | wrote the release notes | release notes
        call the bank about the loan | called the bank about the loan | bank loan
        prepare the slides for the board | prepared the slides for the board | slides board
        check the error logs | checked the error logs | error logs
        draft the job advert | drafted the job advert | job advert
        order the new laptops | ordered the new laptops | laptops order
        fix the login bug | fixed the login bug | login bug
        clean up the shared drive | cleaned up the shared drive | shared drive
        translate the user guide into Spanish | translated the user guide into Spanish | guide spanish
        set up the test accounts | set up the test accounts | test accounts
        collect the expense claims | collected the expense claims | expense claims
        plan the training for new starters | planned the training for new starters | training starters
        renew the insurance policy | renewed the insurance policy | insurance policy
        reply to the tax letter | replied to the tax letter | tax letter
        try the payment page on phones | tried the payment page on phones | payment phones
        ask the landlord about the heating | asked the landlord about the heating | landlord heating
        archive the old customer database | archived the old customer database | archive database
        """
    ),
    topics=(
        "the billing migration",
        "the mobile app redesign",
        "the spring campaign",
        "the customer portal",
        "the warehouse move",
        "the partner programme",
        "the analytics dashboard",
        "the support queue",
        "the onboarding flow",
        "the pricing page",
        "the delivery service",
        "the security review",
    ),
    teams=(
        ("the quality team", "quality team"),
        ("the design team", "design team"),
        ("the sales team", "sales team"),
        ("the legal team", "legal team"),
    ),
    dues=(
        "by Friday",
        "before next Tuesday",
        "tomorrow",
        "by the end of the month",
        "next week",
        "before the Monday meeting",
        "by Thursday morning",
    ),
    numbers=("two", "three", "four", "five", "six", "ten", "twelve", "fifteen", "twenty", "thirty"),
    reasons=(
        "the vendor sent the parts late",
        "two people were out sick",
        "the requirements changed twice",
        "the new colleague is still learning",
        "the holidays slowed everything down",
        "we found more work than we thought",
        "the old system is harder to read than expected",
        "we waited a week for access",
        "the first draft had to be redone",
        "a supplier went quiet for ten days",
    ),
    progress=(
        "it moved forward yesterday",
        "most of it is finished",
        "we are about halfway there",
        "the hard part is behind us",
        "only small things remain",
        "a first group of people uses it now",
        "the last checks are under way",
        "we should see the end of it soon",
        "it goes faster since the new setup",
    ),
    feedback=(
        "the feedback has been good",
        "people seem happy with it",
        "a few people found it confusing",
        "the first reactions are mixed",
        "nobody has complained so far",
        "the early numbers look encouraging",
        "some people want more options",
        "it is clearer than the old one",
    ),
    decided=(
        ("A!We decided to {d}.",),
        ("A:I suggest we {d}.", "B:I agree.", "A!So it is agreed: we {d}."),
        ("B:My proposal is to {d}.", "A!Fine, let's go with that and {d}."),
        ("A!The decision is to {d}.", "B:Fine by me."),
        ("A:Can we close this point?", "B:Yes.", "A!Then it is decided: we {d}."),
        ("A:I would {d}.", "A:Does anyone object?", "B:No objection.", "A!Good, we {d} then."),
        ("A!After all this discussion, we agreed to {d}.",),
    ),
    assigned=(
        ("B", ("A!{B} will {a}{due}.", "B:Okay, that works for me.")),
        ("B", ("A!{B}, can you {a}{due}?", "B!Yes, I will do it.")),
        ("B", ("A!{B}, could you please {a}{due}?", "B!Sure, I can do that.")),
        ("B", ("A!Action for {B}: {a}{due}.",)),
        ("A", ("A!I'll {a}{due}.", "B:Thanks, {A}.")),
        ("A", ("A!Let me {a}{due}.",)),
        ("A", ("B!Someone has to {a}.", "A!I can do it{due}.")),
        ("team", ("A!{team} will {a}{due}.",)),
        ("team", ("A!We need {team} to {a}{due}.", "B:Makes sense.")),
    ),
    canonical_action="{owner} will {a}.",
    status=(
        ("A:{T} is on track.",),
        ("A:What is the status of {t}?", "B:{T} is about {n} weeks behind, because {why}.", "A:Thanks, {B}."),
        ("A:How is {t} going, {B}?", "B:We are roughly {n} percent done.", "B:No big surprises so far."),
        (
            "A:On {t}, we are still waiting for the vendor.",
            "B:Again?",
            "A:Yes, they promised an answer within {n} days.",
        ),
        ("A:The numbers for {t} look better than in the autumn.", "B:Good to hear."),
        ("A:I think {t} is in good shape.",),
        ("A:I am a bit worried about {t}.", "B:Why is that?", "A:Because {why}."),
        ("A:People keep asking about {t}.",),
        ("A:We got {n} complaints about {t} this week.", "B:That is more than usual."),
        ("A:Traffic went up by {n} percent after {t}.", "B:Nice."),
        ("A:Nothing new on {t} since last time.",),
        ("A:{P} did great work on {t}.", "B:Yes, thanks, {P}."),
        ("A:Does anyone have questions about {t}?", "B:No, it is clear."),
        ("A:Where are we with {t}, {B}?", "B:{how}."),
        ("A:How many people are waiting on {t}?", "B:About {n} hundred, I think."),
        ("A:Honestly, I like where {t} is going.", "B:Me too."),
        ("A:Is {t} still blocked?", "B:Not any more, {how}."),
        ("A:{B}, anything to add on {t}?", "B:Only that {heard}."),
        ("A:What do people say about {t}?", "B:{heard}."),
        ("A:Why is {t} late?", "B:{why}.", "A:I see."),
    ),
    negatives=(
        ("A:We could {d}, but let's wait for the figures.", "B:Yes, too early."),
        ("A:One option would be to {d}.", "B:Let's not decide that today."),
        ("A:Maybe we should {d}?", "B:I am not sure, let's talk about it next time."),
        ("A:Should we decide on {t} today?", "B:Not yet."),
        ("A:Do we need a decision on {t}?", "B:Not today, we need more data first."),
        ("A:{P} {done} last week.", "B:Good."),
        ("A:As you know, we {done} in October.",),
        ("A:I already {done} on Monday.", "B:Thanks."),
        ("A:The final figures are not in yet.",),
        ("A:I will be honest, the numbers are weak.", "B:They are."),
        ("A:I will admit the last few months were hard.",),
        ("A:If money allows, someone should {a}.", "B:Maybe later in the year."),
        ("A:Ideally someone would {a}, but nobody has time for it now.",),
        ("A:Last year we decided to {d}, and it did not work.", "B:True, let's not repeat that."),
        ("A:Our final decision will depend on the figures.",),
        ("A:Someone will have to look at {t} one day.", "B:One day, yes."),
        ("A:Remember that {P} will be away next week.",),
    ),
    transitions=("A:Next topic is {t}.", "A:Let's talk about {t}.", "A:Moving on to {t}."),
    openings=(
        ("A:Good morning everyone.", "B:Morning, {A}.", "A:Let's start with {t}."),
        ("A:Hello {B}, hello {P}.", "B:Hi {A}.", "A:First, {t}."),
    ),
    closings=(
        ("A:That is all for today.", "B:Thanks, {A}.", "A:Thanks everyone, see you next week."),
        ("A:Anything else?", "B:No, I think we are done.", "A:Great, thank you all."),
    ),
)

FRENCH = Phrases(
    decisions=_choices(
        """
        reporter le lancement du produit à mars | lancement mars
        garder les tarifs actuels jusqu'en septembre | tarifs septembre
        arrêter la version pour tablette | version tablette
        embaucher deux graphistes indépendants | graphistes indépendants
        faire l'enquête de satisfaction chaque trimestre | enquête trimestre
        rendre la lettre d'information mensuelle | lettre mensuelle
        organiser le séminaire d'équipe à Lisbonne | séminaire lisbonne
        geler les nouvelles fonctionnalités jusqu'à l'audit | geler audit
        utiliser le logo vert sur le site | logo vert
        fermer le bureau de Lyon à la fin de l'année | bureau lyon
        ouvrir le standard le samedi | standard samedi
        lancer le projet pilote avec trois écoles | pilote écoles
        prolonger l'essai gratuit pour les étudiants | essai étudiants
        passer la messagerie de l'équipe sur le nouvel outil | messagerie outil
        imprimer le catalogue seulement sur demande | catalogue imprimer
        """
    ),
    tasks=_tasks(
        """
        envoyer le contrat au client | envoyé le contrat au client | contrat client
        réserver la salle pour l'atelier | réservé la salle pour l'atelier | salle atelier
        mettre à jour le tableau du budget | mis à jour le tableau du budget | tableau budget
        rédiger le communiqué de presse | rédigé le communiqué de presse | communiqué presse
        appeler la banque pour le prêt | appelé la banque pour le prêt | banque prêt
        préparer les diapositives du conseil | préparé les diapositives du conseil | diapositives conseil
        vérifier les journaux d'erreurs | vérifié les journaux d'erreurs | journaux erreurs
        rédiger l'offre d'emploi | rédigé l'offre d'emploi | offre emploi
        commander les ordinateurs portables | commandé les ordinateurs portables | ordinateurs portables
        corriger le bug de connexion | corrigé le bug de connexion | bug connexion
        ranger le dossier partagé | rangé le dossier partagé | dossier partagé
        traduire le guide en espagnol | traduit le guide en espagnol | guide espagnol
        créer les comptes de test | créé les comptes de test | comptes test
        rassembler les notes de frais | rassemblé les notes de frais | notes frais
        préparer l'accueil des stagiaires | préparé l'accueil des stagiaires | accueil stagiaires
        renouveler l'assurance des locaux | renouvelé l'assurance des locaux | assurance locaux
        répondre au courrier des impôts | répondu au courrier des impôts | courrier impôts
        tester la page de paiement sur mobile | testé la page de paiement sur mobile | paiement mobile
        écrire au bailleur pour le chauffage | écrit au bailleur pour le chauffage | bailleur chauffage
        archiver l'ancienne base de données | archivé l'ancienne base de données | archiver base
        """
    ),
    topics=(
        "la migration de la facturation",
        "la refonte de l'application",
        "la campagne de printemps",
        "l'espace abonnés",
        "le déménagement de l'entrepôt",
        "le programme partenaires",
        "le suivi des ventes",
        "la file du support",
        "le parcours d'inscription",
        "la page des prix",
        "le service de livraison",
        "la revue de sécurité",
    ),
    teams=(
        ("l'équipe qualité", "équipe qualité"),
        ("l'équipe design", "équipe design"),
        ("le service juridique", "service juridique"),
        ("l'équipe commerciale", "équipe commerciale"),
    ),
    dues=(
        "d'ici vendredi",
        "avant mardi prochain",
        "demain",
        "d'ici la fin du mois",
        "la semaine prochaine",
        "avant la réunion de lundi",
        "jeudi matin",
    ),
    numbers=("deux", "trois", "quatre", "cinq", "six", "dix", "douze", "quinze", "vingt", "trente"),
    reasons=(
        "le fournisseur a livré en retard",
        "deux personnes étaient malades",
        "le cahier des charges a changé deux fois",
        "le nouveau collègue apprend encore",
        "les vacances ont tout ralenti",
        "il y avait plus de travail que prévu",
        "l'ancien système est plus compliqué que prévu",
        "on a attendu les accès pendant une semaine",
        "la première ébauche était à refaire",
        "un prestataire n'a pas répondu pendant dix jours",
    ),
    progress=(
        "ça a avancé hier",
        "le plus gros est fait",
        "on est à peu près à mi-chemin",
        "le plus dur est derrière nous",
        "il ne reste que des détails",
        "un premier groupe l'utilise déjà",
        "les dernières vérifications sont en cours",
        "on devrait voir le bout bientôt",
        "ça va plus vite depuis la nouvelle organisation",
    ),
    feedback=(
        "les retours sont bons",
        "les gens ont l'air contents",
        "quelques personnes le trouvent confus",
        "les premières réactions sont partagées",
        "personne ne s'est plaint pour l'instant",
        "les premiers chiffres sont encourageants",
        "certains voudraient plus d'options",
        "c'est plus clair qu'avant",
    ),
    decided=(
        ("A!On a décidé de {d}.",),
        ("A:Je propose de {d}.", "B:D'accord.", "A!C'est décidé : on va {d}."),
        ("B:Ma proposition, c'est de {d}.", "A!Très bien, on part là-dessus : on va {d}."),
        ("A!Nous avons convenu de {d}.", "B:Ça me va."),
        ("A:On peut clore ce point ?", "B:Oui.", "A!Alors c'est décidé, on va {d}."),
        ("A:Je serais pour {d}.", "A:Quelqu'un s'y oppose ?", "B:Non.", "A!Parfait, la décision est de {d}."),
        ("A!Après discussion, on s'est mis d'accord pour {d}.",),
    ),
    assigned=(
        ("B", ("A!{B} va {a}{due}.", "B:D'accord, ça me va.")),
        ("B", ("A!{B}, tu peux {a}{due} ?", "B!Oui, je m'en occupe.")),
        ("B", ("A!{B}, est-ce que tu pourrais {a}{due} ?", "B!Bien sûr, je le fais.")),
        ("B", ("A!Action pour {B} : {a}{due}.",)),
        ("A", ("A!Je vais {a}{due}.", "B:Merci, {A}.")),
        ("A", ("A!Je m'occupe de {a}{due}.",)),
        ("A", ("B!Il faut que quelqu'un pense à {a}.", "A!Je peux le faire{due}.")),
        ("team", ("A!{team} va {a}{due}.",)),
        ("team", ("A!On demande à {team} de {a}{due}.", "B:Très bien.")),
    ),
    canonical_action="{owner} va {a}.",
    status=(
        ("A:{T} avance bien.",),
        ("A:Où en est {t} ?", "B:{T} a environ {n} semaines de retard, parce que {why}.", "A:Merci, {B}."),
        (
            "A:{B}, comment se passe {t} ?",
            "B:On en est à peu près à {n} pour cent.",
            "B:Pas de grosse surprise pour l'instant.",
        ),
        (
            "A:Pour {t}, on attend toujours le fournisseur.",
            "B:Encore ?",
            "A:Oui, ils ont promis une réponse sous {n} jours.",
        ),
        ("A:Les chiffres de {t} sont meilleurs qu'en automne.", "B:Bonne nouvelle."),
        ("A:Je trouve que {t} est en bonne voie.",),
        ("A:{T} m'inquiète un peu.", "B:Pourquoi ?", "A:Parce que {why}."),
        ("A:Les utilisateurs nous parlent souvent de {t}.",),
        ("A:On a reçu {n} réclamations sur {t} cette semaine.", "B:C'est plus que d'habitude."),
        ("A:Le trafic a augmenté de {n} pour cent après {t}.", "B:Très bien."),
        ("A:Rien de nouveau sur {t} depuis la dernière fois.",),
        ("A:{P} a fait du très bon travail sur {t}.", "B:Oui, merci {P}."),
        ("A:Des questions sur {t} ?", "B:Non, c'est clair."),
        ("A:{B}, on en est où avec {t} ?", "B:{how}."),
        ("A:Combien de personnes attendent {t} ?", "B:Environ {n} personnes, je crois."),
        ("A:Franchement, j'aime bien la direction que prend {t}.", "B:Moi aussi."),
        ("A:Ça bloque toujours sur {t} ?", "B:Plus maintenant, {how}."),
        ("A:{B}, autre chose sur {t} ?", "B:Juste que {heard}."),
        ("A:Qu'est-ce que les gens disent de {t} ?", "B:{heard}."),
        ("A:Pourquoi {t} a du retard ?", "B:{why}.", "A:Je vois."),
    ),
    negatives=(
        ("A:On pourrait {d}, mais attendons les chiffres.", "B:Oui, c'est trop tôt."),
        ("A:Une option serait de {d}.", "B:Ne décidons pas ça aujourd'hui."),
        ("A:Peut-être qu'il faudrait {d} ?", "B:Je ne sais pas, on en reparle la prochaine fois."),
        ("A:Est-ce qu'on décide pour {t} aujourd'hui ?", "B:Pas encore."),
        ("A:Il faut trancher sur {t} ?", "B:Pas aujourd'hui, il nous manque des données."),
        ("A:{P} a {done} la semaine dernière.", "B:Parfait."),
        ("A:Comme vous le savez, on a {done} en octobre.",),
        ("A:J'ai déjà {done} lundi.", "B:Merci."),
        ("A:Les chiffres définitifs ne sont pas encore arrivés.",),
        ("A:Je vais être honnête, les résultats sont faibles.", "B:C'est vrai."),
        ("A:J'avoue que les derniers mois ont été difficiles.",),
        ("A:Si on a les moyens, quelqu'un devrait {a}.", "B:Peut-être plus tard dans l'année."),
        ("A:Idéalement, quelqu'un devrait {a}, mais personne n'a le temps en ce moment.",),
        (
            "A:L'an dernier, on avait décidé de {d}, et ça n'a pas marché.",
            "B:C'est vrai, ne recommençons pas.",
        ),
        ("A:Notre décision finale dépendra des chiffres.",),
        ("A:Il faudra bien regarder {t} un jour.", "B:Un jour, oui."),
        ("A:Je rappelle que {P} ne sera pas là la semaine prochaine.",),
    ),
    transitions=("A:Point suivant : {t}.", "A:Parlons de {t}.", "A:Passons à {t}."),
    openings=(
        ("A:Bonjour à tous.", "B:Bonjour {A}.", "A:On commence par {t}."),
        ("A:Bonjour {B}, bonjour {P}.", "B:Salut {A}.", "A:D'abord, {t}."),
    ),
    closings=(
        ("A:C'est tout pour aujourd'hui.", "B:Merci, {A}.", "A:Merci à tous, à la semaine prochaine."),
        ("A:Autre chose ?", "B:Non, je crois qu'on a fini.", "A:Parfait, merci à tous."),
    ),
    french=True,
)
PHRASES: dict[str, Phrases] = {"en": ENGLISH, "fr": FRENCH}


@dataclass(frozen=True)
class Line:
    """One sentence of the script: who says it and the pause before it."""

    speaker: str
    text: str
    gap_s: float


class _Writer:
    """Writes one meeting's script line by line, keeping an estimate of the clock."""

    def __init__(self, spec: MeetingSpec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.words: Phrases = PHRASES[spec.language]
        self.names = {f"S{i + 1}": name for i, (name, _) in enumerate(spec.participants)}
        self.lines: list[Line] = []
        self.items: list[dict[str, Any]] = []
        self.clock_s = 0.0
        decisions = self.rng.sample(self.words.decisions, len(self.words.decisions))
        tasks = self.rng.sample(self.words.tasks, len(self.words.tasks))
        self.decisions, self.spare_decisions = decisions[: spec.n_decisions], decisions[spec.n_decisions :]
        self.tasks, self.spare_tasks = tasks[: spec.n_actions], tasks[spec.n_actions :]
        self.topics = self.rng.sample(self.words.topics, len(self.words.topics))
        self.topic = self.topics[0]
        self.blocks_on_topic = 0
        self.decks: dict[tuple[Any, ...], list[Any]] = {}

    def say(self, speaker: str, text: str) -> int:
        """Append one sentence; returns its index."""
        same = bool(self.lines) and self.lines[-1].speaker == speaker
        gap = self.rng.uniform(0.3, 0.7) if same else self.rng.uniform(0.5, 1.5)
        if not self.lines:
            gap = 1.0
        text = self.words.fix(text)
        self.lines.append(Line(speaker, text[0].upper() + text[1:], round(gap, 2)))
        self.clock_s += gap + estimate_s(text, self.spec.language)
        return len(self.lines) - 1

    def pair(self) -> tuple[str, str]:
        """Two different speakers, the first more often the chair (S1)."""
        ids = list(self.names)
        first = ids[0] if self.rng.random() < 0.35 else self.rng.choice(ids)
        return first, self.rng.choice([s for s in ids if s != first])

    def pick(self, pool: tuple[_T, ...]) -> _T:
        """The pool's next template from a shuffled deck, so each is used before any repeats.

        Templates naming a third person ({P}) are left out of two-person meetings.
        """
        deck = self.decks.setdefault(pool, [])
        if not deck:
            deck += [t for t in pool if len(self.names) > 2 or "{P}" not in repr(t)]
            self.rng.shuffle(deck)
        return deck.pop()

    def exchange(self, lines: tuple[str, ...], slots: dict[str, str], a: str, b: str) -> list[int]:
        """Say a template's lines ("A:..." or "B:..."; "!" instead of ":" marks an item line)."""
        marked = []
        for line in lines:
            speaker = a if line[0] == "A" else b
            index = self.say(speaker, line[2:].format(**slots))
            if line[1] == "!":
                marked.append(index)
        return marked

    def slots(self, a: str, b: str) -> dict[str, str]:
        others = [s for s in self.names if s not in (a, b)] or [b]
        topic = self.topic
        return {
            "A": self.names[a],
            "B": self.names[b],
            "P": self.names[self.rng.choice(others)],
            "t": topic,
            "T": topic[0].upper() + topic[1:],
            "n": self.rng.choice(self.words.numbers),
            "why": self.rng.choice(self.words.reasons),
            "how": self.rng.choice(self.words.progress),
            "heard": self.rng.choice(self.words.feedback),
            "d": self.rng.choice(self.spare_decisions).clause,
            "a": self.rng.choice(self.spare_tasks).clause,
            "done": self.rng.choice(self.spare_tasks).done,
        }

    def filler(self, negatives: float) -> None:
        """One exchange of status talk, or a hard negative with probability `negatives`."""
        if self.blocks_on_topic >= self.rng.randint(3, 6):
            self.topic = self.topics[(self.topics.index(self.topic) + 1) % len(self.topics)]
            self.blocks_on_topic = 0
            a, b = self.pair()
            self.exchange((self.rng.choice(self.words.transitions),), self.slots(a, b), a, b)
        self.blocks_on_topic += 1
        pool = self.words.negatives if self.rng.random() < negatives else self.words.status
        a, b = self.pair()
        self.exchange(self.pick(pool), self.slots(a, b), a, b)

    def decision(self, index: int) -> None:
        core = self.decisions[index]
        a, b = self.pair()
        slots = {**self.slots(a, b), "d": core.clause}
        marked = self.exchange(self.pick(self.words.decided), slots, a, b)
        text = core.clause[0].upper() + core.clause[1:] + "."
        self._item("decision", text, core.keys, None, None, None, marked)

    def action(self, index: int) -> None:
        core = self.tasks[index]
        a, b = self.pair()
        owner_role, lines = self.pick(self.words.assigned)
        due = self.rng.choice(self.words.dues) if self.rng.random() < 0.7 else None
        team_spoken, team = self.rng.choice(self.words.teams)
        slots = {**self.slots(a, b), "a": core.clause, "due": f" {due}" if due else "", "team": team_spoken}
        marked = self.exchange(lines, slots, a, b)
        speaker = {"A": a, "B": b}.get(owner_role)
        owner = self.names[speaker] if speaker else team
        spoken_owner = owner if speaker else team_spoken
        text = self.words.fix(self.words.canonical_action.format(owner=spoken_owner, a=core.clause))
        text = text[0].upper() + text[1:-1] + (f" {due}." if due else ".")
        self._item("action", text, core.keys, owner, speaker, due, marked)

    def _item(
        self,
        kind: str,
        text: str,
        keys: tuple[str, ...],
        owner: str | None,
        owner_speaker: str | None,
        due: str | None,
        marked: list[int],
    ) -> None:
        self.items.append(
            {
                "kind": kind,
                "text": text,
                "keys": list(keys),
                "owner": owner,
                "owner_speaker": owner_speaker,
                "due": due,
                "sentence_span": [marked[0], marked[-1]],
            }
        )

    def write(self) -> tuple[list[Line], list[dict[str, Any]]]:
        """The whole script: opening, talk with the items at times spread over it, closing."""
        target_s = self.spec.minutes * 60
        kinds = ["decision"] * self.spec.n_decisions + ["action"] * self.spec.n_actions
        self.rng.shuffle(kinds)
        due_at = [(i + self.rng.uniform(0.3, 0.7)) / len(kinds) * (target_s - 40) for i in range(len(kinds))]
        negatives = 0.25 if kinds else 0.4
        a, b = self.pair()
        self.exchange(self.pick(self.words.openings), self.slots(a, b), a, b)
        done = {"decision": 0, "action": 0}
        while self.clock_s < target_s - 12 or len(self.items) < len(kinds):
            n = len(self.items)
            if n < len(kinds) and self.clock_s >= due_at[n]:
                kind = kinds[n]
                (self.decision if kind == "decision" else self.action)(done[kind])
                done[kind] += 1
            else:
                self.filler(negatives)
        a, b = self.pair()
        self.exchange(self.rng.choice(self.words.closings), self.slots(a, b), a, b)
        return self.lines, self.items


def estimate_s(text: str, language: str) -> float:
    """How long espeak takes to say a sentence, roughly."""
    return 0.2 + len(text.split()) / WORDS_PER_S[language]


def script(spec: MeetingSpec) -> tuple[list[Line], list[dict[str, Any]]]:
    """The meeting's sentences and its items (each pointing at the sentences that state it)."""
    return _Writer(spec).write()


def styles(spec: MeetingSpec) -> dict[str, tuple[str, int, int]]:
    """Each speaker's espeak (voice, words per minute, pitch), fixed by the seed."""
    rng = random.Random(spec.seed + 1000)
    return {
        f"S{i + 1}": (voice, rng.randint(150, 170), rng.randint(35, 65))
        for i, (_, voice) in enumerate(spec.participants)
    }


def spec_hash(spec: MeetingSpec, lines: list[Line]) -> str:
    """Changes whenever the spec, the script it makes, the voices or the synthesis do."""
    payload = {
        "spec": asdict(spec),
        "lines": [asdict(line) for line in lines],
        "styles": styles(spec),
        "synth": SYNTH_VERSION,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _truth(
    spec: MeetingSpec, lines: list[Line], items: list[dict[str, Any]], times: list[tuple[float, float]],
    duration_s: float, timing: str,
) -> dict[str, Any]:  # fmt: skip
    sentences: list[dict[str, Any]] = [
        {"speaker": line.speaker, "start": round(s, 3), "end": round(e, 3), "text": line.text}
        for line, (s, e) in zip(lines, times, strict=True)
    ]
    turns: list[dict[str, Any]] = []
    for sentence in sentences:
        if turns and turns[-1]["speaker"] == sentence["speaker"]:
            turns[-1]["end"] = sentence["end"]
            turns[-1]["text"] += " " + sentence["text"]
        else:
            turns.append(dict(sentence))
    timed = []
    for item in items:
        first, last = item["sentence_span"]
        timed.append({**item, "start": sentences[first]["start"], "end": sentences[last]["end"]})
    return {
        "name": spec.name,
        "language": spec.language,
        "duration_s": round(duration_s, 3),
        "timing": timing,
        "speakers": {f"S{i + 1}": name for i, (name, _) in enumerate(spec.participants)},
        "turns": turns,
        "sentences": sentences,
        "items": timed,
        "spec_hash": spec_hash(spec, lines),
    }


def plan(spec: MeetingSpec) -> dict[str, Any]:
    """The ground truth without audio: the script's times estimated from its word counts."""
    lines, items = script(spec)
    times, clock = [], 0.0
    for line in lines:
        start = clock + line.gap_s
        clock = start + estimate_s(line.text, spec.language)
        times.append((start, clock))
    return _truth(spec, lines, items, times, clock + 1.0, "estimated")


def audio_paths(spec: MeetingSpec, out_dir: Path = AUDIO_DIR) -> tuple[Path, Path]:
    """Where a meeting's MP3 and its truth JSON are kept."""
    return out_dir / f"{spec.name}.mp3", out_dir / f"{spec.name}.json"


def synthesize(spec: MeetingSpec, out_dir: Path = AUDIO_DIR, force: bool = False) -> dict[str, Any]:
    """The meeting as MP3 and its truth with the audio's own times; reused while the spec hash holds."""
    mp3, truth_path = audio_paths(spec, out_dir)
    lines, items = script(spec)
    if not force and mp3.exists() and truth_path.exists():
        cached: dict[str, Any] = json.loads(truth_path.read_text())
        if cached.get("spec_hash") == spec_hash(spec, lines):
            return cached
    out_dir.mkdir(parents=True, exist_ok=True)
    voice = styles(spec)
    gains = {s: 0.55 + 0.4 * random.Random(spec.seed + i).random() for i, s in enumerate(voice)}
    unique = sorted({(line.speaker, line.text) for line in lines})
    with ThreadPoolExecutor(max_workers=4) as pool:
        pcm = dict(
            zip(
                unique,
                pool.map(lambda st: generate_long.synthesize(voice[st[0]], st[1]), unique),
                strict=True,
            )
        )
    encoder = generate_long.start_encoder(mp3)
    timeline = generate_long.Timeline(encoder, np.random.default_rng(spec.seed), noise=30.0)
    times = []
    for line in lines:
        timeline.pause(line.gap_s)
        start = timeline.seconds
        speech = pcm[(line.speaker, line.text)]
        timeline.write(speech, speech.size, gains[line.speaker])
        times.append((start, timeline.seconds))
    timeline.pause(1.0)
    assert encoder.stdin is not None
    encoder.stdin.close()
    if encoder.wait() != 0:
        raise RuntimeError(f"ffmpeg failed to encode {mp3}")
    truth = _truth(spec, lines, items, times, timeline.seconds, "synthesized")
    truth_path.write_text(json.dumps(truth, ensure_ascii=False, indent=1))
    return truth


def _words_of(text: str) -> Iterator[str]:
    yield from re.findall(r"\S+", text)


def script_transcript(truth: dict[str, Any]) -> Transcript:
    """The script as a perfect transcript: one segment per sentence, its words spread evenly, speakers S1.."""
    segments = []
    for sentence in truth["sentences"]:
        tokens = list(_words_of(sentence["text"]))
        start, end = float(sentence["start"]), float(sentence["end"])
        step = (end - start) / max(len(tokens), 1)
        words = [
            Word(start + i * step, start + (i + 1) * step, " " + token, 1.0, sentence["speaker"])
            for i, token in enumerate(tokens)
        ]
        segments.append(Segment(start, end, sentence["speaker"], sentence["text"], words))
    speakers = list(dict.fromkeys(s["speaker"] for s in truth["sentences"]))
    return Transcript(
        truth["language"], float(truth["duration_s"]), speakers, segments, {"transcribe": "script"}
    )


def main(argv: list[str] | None = None) -> int:
    """Synthesize the meetings that are missing or out of date; print one JSON line each."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="+", choices=sorted(MEETINGS), help="meetings to make (default: all)")
    parser.add_argument("--force", action="store_true", help="synthesize even when the audio is up to date")
    parser.add_argument("--out", type=Path, default=AUDIO_DIR)
    args = parser.parse_args(argv)
    for name in args.only or list(MEETINGS):
        started = time.perf_counter()
        truth = synthesize(MEETINGS[name], args.out, args.force)
        row = {
            "name": name,
            "duration_s": truth["duration_s"],
            "sentences": len(truth["sentences"]),
            "items": len(truth["items"]),
            "seconds": round(time.perf_counter() - started, 1),
            "mp3": str(audio_paths(MEETINGS[name], args.out)[0]),
        }
        print(json.dumps(row), file=sys.stdout, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
