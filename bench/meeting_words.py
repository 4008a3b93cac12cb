"""What the generated meetings (bench/meetings.py) say: the phrase structure and its main EN/FR banks.

A bank (`Phrases`) holds the items a meeting may settle (decisions, tasks with their keys), the filler
it talks about (topics, figures, reasons, progress, feedback) and the exchange templates that state an
item, talk around it, or fool a cue ranker. These main banks are what the summarizer's cues were tuned
on; bench/meeting_words_heldout.py holds the banks nobody tuned it to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


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


# lines "A:text", "B:text" or "P:text" (said by the third person {P} names, so the template names {P});
# "A!", "B!", "P!" mark the lines that state the item
Template = tuple[str, ...]


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
    assigned: tuple[tuple[str, Template], ...]  # (who owns it: "A", "B", "P" or "team", the exchange)
    canonical_action: str  # "{owner} will {a}."
    status: tuple[Template, ...]
    negatives: tuple[Template, ...]
    transitions: tuple[str, ...]
    openings: tuple[Template, ...]
    closings: tuple[Template, ...]
    # espeak's pace on these words at 150-170 words a minute, pauses inside a sentence included (fitted on
    # the meetings' audio: short words and contractions go faster)
    words_per_s: float
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


def parse_choices(rows: str) -> tuple[Choice, ...]:
    """Decisions from rows "clause | keys"."""
    return tuple(Choice(c.strip(), tuple(k.split())) for c, k in (r.split("|") for r in _rows(rows)))


def parse_tasks(rows: str) -> tuple[Task, ...]:
    """Tasks from rows "clause | clause done | keys"."""
    out = []
    for row in _rows(rows):
        clause, done, keys = row.split("|")
        out.append(Task(clause.strip(), done.strip(), tuple(keys.split())))
    return tuple(out)


def _rows(block: str) -> list[str]:
    return [line.strip() for line in block.strip().splitlines() if line.strip()]


ENGLISH = Phrases(
    decisions=parse_choices(
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
    tasks=parse_tasks(
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
    words_per_s=3.3,
)

FRENCH = Phrases(
    decisions=parse_choices(
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
    tasks=parse_tasks(
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
    words_per_s=3.8,
    french=True,
)
