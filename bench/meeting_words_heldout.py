"""The held-out phrase banks: what the held-out meetings (bench/meetings.py HELDOUT) say.

Written apart from the main banks (bench/meeting_words.py) and from the summarizer, so that nothing in
services/summarize/ was tuned on them: other items and filler, other ways a meeting settles something
("Nobody objects, so we ...", "Hands up if ...", "Vendu.", "Allez, on fait ça."), other ways a task is
taken ("Leave it with me", "Grace's on it", "je te laisse ... ?" "Ça marche."), some by a third person
who answers for themselves, other due dates ("first thing Monday", "d'ici quinze jours"), and other hard
negatives: proposals parked, "we'll see", decisions reported from elsewhere, hypotheticals, jokes,
requests declined, tasks already done, and cue words in other senses.
"""

from __future__ import annotations

from bench.meeting_words import Phrases, parse_choices, parse_tasks

ENGLISH = Phrases(
    decisions=parse_choices(
        """
        put motion sensors on the corridor lights | sensors corridor
        stop sending paper invoices from June | paper invoices
        open a second help desk in Dublin | desk dublin
        give every newcomer a mentor | mentor newcomer
        move the weekly sync to Wednesdays | sync wednesdays
        pay small suppliers by card | suppliers card
        rent electric vans for the local rounds | electric vans
        let the team work remotely on Fridays | remotely fridays
        sponsor the football club down the road | football club
        translate the website into German | website german
        raise the delivery fee for small orders | delivery fee
        keep the shop open late on Thursdays | shop thursdays
        publish our salary bands | salary bands
        end the deal with the cleaning company | cleaning company
        """
    ),
    tasks=parse_tasks(
        """
        email the venue about the parking | emailed the venue about the parking | venue parking
        chase the late payments from Norway | chased the late payments from Norway | payments norway
        write up the interview notes | wrote up the interview notes | interview notes
        get three quotes for the roof repair | got three quotes for the roof repair | quotes roof
        book a visit from the auditors | booked a visit from the auditors | visit auditors
        update the staff handbook | updated the staff handbook | staff handbook
        test the backup restore | tested the backup restore | backup restore
        print the name badges for the fair | printed the name badges for the fair | name badges
        renew the software licences | renewed the software licences | software licences
        move the old files to the archive server | moved the old files to the archive server | files archive
        fix the printer on the second floor | fixed the printer on the second floor | printer floor
        book the caterer for the barbecue | booked the caterer for the barbecue | caterer barbecue
        check the fire alarms | checked the fire alarms | fire alarms
        answer the reviews posted online | answered the reviews posted online | reviews online
        clear the old stock from the warehouse | cleared the old stock from the warehouse | stock warehouse
        sign the lease for the depot | signed the lease for the depot | lease depot
        measure the noise levels upstairs | measured the noise levels upstairs | noise levels
        """
    ),
    topics=(
        "the winter sale",
        "the loyalty scheme",
        "the year end report",
        "the new intranet",
        "the recruitment drive",
        "the charity week",
        "the partner portal",
        "the tablet app",
        "the trade show",
        "the cloud move",
        "the checkout redesign",
        "the pricing study",
    ),
    teams=(
        ("the finance team", "finance team"),
        ("the web team", "web team"),
        ("the events team", "events team"),
        ("the data team", "data team"),
    ),
    dues=(
        "first thing Monday",
        "in two weeks",
        "before the holidays",
        "by the end of next week",
        "within ten days",
        "by lunchtime tomorrow",
        "early next week",
        "before the board meets",
    ),
    numbers=("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve"),
    reasons=(
        "the new vendor wanted extra paperwork",
        "half of us were at the conference",
        "the test server kept crashing",
        "nobody really owned it for a while",
        "the scope grew after the kickoff",
        "the first prices we got were far too high",
        "the tool we picked turned out to be slow",
        "we lost a week to the power cut",
        "the client changed their mind",
        "the numbers did not add up at first",
    ),
    progress=(
        "it's nearly there",
        "we've done the boring half",
        "the first version is live",
        "we are through the worst of it",
        "it's moving, slowly but surely",
        "a couple of loose ends are left",
        "we started the last round of tests",
        "we're a bit ahead, for once",
    ),
    feedback=(
        "people like it more than we expected",
        "the early comments are positive",
        "a few people asked for a simpler version",
        "opinion is split",
        "most people haven't noticed it yet",
        "the regulars are very happy",
        "one or two people are annoyed",
        "it got a good reaction in the demo",
    ),
    decided=(
        ("A:We've gone round in circles on this.", "A!Right, that's what we'll do: {d}."),
        ("A:Any objections if we {d}?", "B:None from me.", "A!Nobody objects, so we {d}."),
        ("B!How about we {d}?", "A!Yes, let's do it."),
        ("A!Hands up if you want to {d}.", "B:That's everyone.", "A!Carried, then."),
        ("B:I keep coming back to the same answer.", "B!We should {d}.", "A!Agreed, we'll do that."),
        ("A!Let's lock it in: we {d}.", "B:Great."),
        ("A:So, are we doing this or not?", "B:I say yes.", "A!Then it's a yes: we {d}."),
        ("A!We're going with the plan to {d}.", "B:About time."),
    ),
    assigned=(
        ("A", ("A!Leave it with me, I'll {a}{due}.",)),
        ("B", ("A!{B}, are you okay to {a}{due}?", "B!Yep, on it.")),
        ("P", ("A!Next step is to {a}{due}.", "A!{P}'s on it.", "P!Yes, that one's mine.")),
        ("P", ("A!{P}, this one's yours: {a}{due}.", "P!No problem.")),
        ("B", ("A!{B}, any chance you could {a}{due}?", "B!Sure thing.")),
        (
            "B",
            (
                "B!Somebody should {a}.",
                "A!Sounds like a job for you, {B}.",
                "B!Fair enough, I'll do it{due}.",
            ),
        ),
        ("A", ("B!Who's free to {a}{due}?", "A!Me, sign me up.")),
        ("team", ("A!This goes to {team}, they'll {a}{due}.", "B:They know already.")),
        ("team", ("A!Let's hand it to {team} to {a}{due}.",)),
        ("B", ("A!{B}, I'll let you {a}{due}.", "B!Works for me.")),
    ),
    canonical_action="{owner} will {a}.",
    status=(
        ("A:Quick one on {t}: still green.",),
        ("A:{B}, how are we doing on {t}?", "B:{how}."),
        ("A:What's holding up {t}?", "B:Mostly that {why}.", "A:Right."),
        ("A:Any news from the ground on {t}?", "B:Yes, {heard}."),
        ("A:I had a look at {t} this morning.", "A:It's in better shape than I feared."),
        ("A:We had {n} sign ups for {t} yesterday.", "B:Is that good?", "A:It's twice last month."),
        ("A:Is {t} going to slip?", "B:A little, because {why}."),
        ("A:Hats off to {P} for {t}.", "B:Seconded, great job."),
        ("A:Remind me, who asked for {t} in the first place?", "B:The customers, mostly."),
        ("A:Costs on {t} are about {n} percent over.", "B:That's not too bad."),
        ("A:Can I say something about {t}?", "B:Go ahead.", "A:I think {heard}."),
        ("A:{T} looks quiet this week.", "B:Quiet is good."),
        ("A:How many complaints on {t}?", "B:Only {n}, all small ones."),
        ("A:Did {t} go out on time?", "B:Nearly, we were {n} days late because {why}."),
        ("A:{P} tells me {t} is going well.", "B:Glad to hear it."),
        ("A:Where are we really on {t}?", "B:{how}, and {heard}."),
    ),
    negatives=(
        ("A:What if we {d}?", "B:I'd rather not, to be honest.", "A:Fair, let's park it."),
        ("B:Someone suggested we {d}.", "A:We looked at it last month, and it was a no."),
        ("A:Are we going to {d} in the end?", "B:We'll see after the next quarter."),
        ("A:Do we want to {d}?", "B:Let me think about it.", "A:Sure, no rush."),
        ("A:The people in Madrid tell me they decided to {d}.", "B:Good for them."),
        ("A:{P} heard that our partners decided to {d}.", "B:Did they tell us why?", "A:No idea."),
        ("A:Apparently the board would like us to {d}.", "B:Nobody has asked us, though."),
        ("A:Suppose we {d}, what happens to {t}?", "B:Hard to say, it's only a thought."),
        ("A:If the budget came through, I would happily {a}.", "B:It won't, sadly."),
        ("A:In a perfect world, we'd {d} tomorrow.", "B:In a perfect world, yes."),
        ("A:Who wants to {a}?", "B:Not all at once, please.", "A:Ha, we'll find a volunteer another day."),
        ("A:Let's just {d} and all go home early.", "B:Nice try."),
        ("A:{B}, could you {a} this week?", "B:Honestly no, I'm swamped.", "A:Okay, it can wait."),
        ("A:Good news, {P} already {done}.", "B:Oh nice, one less thing."),
        ("A:Cross that off the list, I {done} on Tuesday.",),
        ("A:What's left from last time?", "B:Not much, I {done} yesterday."),
        ("A:Let me share my screen.", "B:We can see it."),
        ("A:I'll be brief, since we're running late.",),
        ("A:We agreed on one thing last time: nothing.", "B:Sounds about right."),
        ("A:Sorry, I was on mute.", "B:No worries."),
        ("A:Years ago we chose to {d}, and we regretted it.", "B:Let's not go there again."),
        ("A:Is anyone actually in charge of {t}?", "B:Good question, I don't know."),
        ("A:Didn't we say we'd {d}?", "B:No, that was only an idea.", "A:My mistake."),
    ),
    transitions=("A:Okay, {t} now.", "A:Shall we do {t}?", "A:Next up, {t}."),
    openings=(
        ("A:Hi all, thanks for joining.", "B:Hi {A}.", "A:Let's kick off with {t}."),
        ("A:Morning {B}, morning {P}.", "B:Hey {A}.", "A:Straight into {t}, then."),
    ),
    closings=(
        ("A:Okay, I think that's us.", "B:Thanks, {A}.", "A:Thanks all, talk soon."),
        ("A:Last thing, anything from anyone?", "B:Nothing from me.", "A:Perfect, we stop there."),
    ),
    words_per_s=3.5,
)

FRENCH = Phrases(
    decisions=parse_choices(
        """
        installer des détecteurs de présence dans les couloirs | détecteurs couloirs
        supprimer les factures papier dès juin | factures papier
        ouvrir un second accueil à Nantes | accueil nantes
        donner un parrain à chaque nouvel arrivant | parrain arrivant
        déplacer le point hebdomadaire au mercredi | hebdomadaire mercredi
        payer les petits artisans par carte | artisans carte
        louer des camionnettes électriques | camionnettes électriques
        autoriser le télétravail le vendredi | télétravail vendredi
        sponsoriser le club de foot du quartier | club foot
        traduire le site en allemand | site allemand
        augmenter les frais de livraison des petites commandes | frais livraison
        garder la boutique ouverte le jeudi soir | boutique jeudi
        publier les grilles de salaires | grilles salaires
        """
    ),
    tasks=parse_tasks(
        """
        voir avec le fournisseur pour les pièces | vu avec le fournisseur pour les pièces | fournisseur pièces
        relancer les impayés de Belgique | relancé les impayés de Belgique | impayés belgique
        mettre au propre les notes d'entretien | mis au propre les notes d'entretien | notes entretien
        demander trois devis pour la toiture | demandé trois devis pour la toiture | devis toiture
        organiser la visite des auditeurs | organisé la visite des auditeurs | visite auditeurs
        mettre à jour le règlement intérieur | mis à jour le règlement intérieur | règlement intérieur
        tester la reprise des sauvegardes | testé la reprise des sauvegardes | reprise sauvegardes
        imprimer les badges pour le salon | imprimé les badges pour le salon | badges salon
        renouveler les licences des logiciels | renouvelé les licences des logiciels | licences logiciels
        verser les vieux dossiers aux archives | versé les vieux dossiers aux archives | dossiers archives
        réparer l'imprimante du deuxième étage | réparé l'imprimante du deuxième étage | imprimante étage
        réserver le traiteur pour le barbecue | réservé le traiteur pour le barbecue | traiteur barbecue
        vérifier les alarmes incendie | vérifié les alarmes incendie | alarmes incendie
        répondre aux commentaires sur internet | répondu aux commentaires sur internet | commentaires internet
        vider le vieux stock de l'entrepôt | vidé le vieux stock de l'entrepôt | stock entrepôt
        signer le bail du dépôt | signé le bail du dépôt | bail dépôt
        """
    ),
    topics=(
        "la promotion d'hiver",
        "le programme de fidélité",
        "le bilan trimestriel",
        "le nouvel intranet",
        "la campagne de recrutement",
        "la semaine solidaire",
        "le portail partenaires",
        "l'application tablette",
        "le passage au cloud",
        "la refonte du panier",
        "la révision des prix",
        "le rapport annuel",
    ),
    teams=(
        ("l'équipe produit", "équipe produit"),
        ("le service achats", "service achats"),
        ("l'équipe communication", "équipe communication"),
        ("la comptabilité", "comptabilité"),
    ),
    dues=(
        "d'ici quinze jours",
        "en début de semaine prochaine",
        "avant les vacances",
        "lundi à la première heure",
        "d'ici la fin de la semaine prochaine",
        "sous dix jours",
        "demain midi",
        "avant le comité de direction",
    ),
    numbers=("deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "douze"),
    reasons=(
        "le nouveau prestataire a demandé des documents en plus",
        "la moitié de l'équipe était au congrès",
        "le serveur de test plantait sans arrêt",
        "personne ne s'en occupait vraiment pendant un moment",
        "le périmètre a grossi après le lancement",
        "les premiers prix étaient beaucoup trop hauts",
        "l'outil choisi s'est révélé trop lent",
        "on a perdu une semaine avec la panne de courant",
        "le client a changé d'avis",
        "les chiffres ne collaient pas au début",
    ),
    progress=(
        "on y est presque",
        "on a fait la moitié la plus pénible",
        "la première version tourne déjà",
        "le pire est passé",
        "ça avance, doucement mais sûrement",
        "il reste deux ou trois détails",
        "on a commencé la dernière série de tests",
        "on a un peu d'avance, pour une fois",
    ),
    feedback=(
        "les gens l'aiment plus qu'on ne pensait",
        "les premiers retours sont positifs",
        "quelques personnes demandent une version plus simple",
        "les avis sont partagés",
        "la plupart des gens n'ont encore rien remarqué",
        "les habitués sont ravis",
        "une ou deux personnes sont agacées",
        "la démo a été bien reçue",
    ),
    decided=(
        ("B!Et si on essayait de {d} ?", "A!Allez, on fait ça."),
        ("A!Moi, je dis qu'il faut {d}.", "B!Vendu."),
        ("A:Quelqu'un est contre l'idée de {d} ?", "B:Personne.", "A!Donc c'est acté, on va {d}."),
        ("A!On part donc sur l'idée de {d}.", "B:Ça me paraît bien."),
        ("B:Je reviens toujours à la même réponse.", "B!Il faudrait {d}.", "A!D'accord, on retient ça."),
        ("A!Bon, on tranche : on va {d}.", "B:Enfin."),
        ("A!Qui est pour {d} ? Levez la main.", "B:Tout le monde.", "A!Adopté, alors."),
        ("A:Alors, on le fait ou pas ?", "B:Moi je dis oui.", "A!Va pour ça : on va {d}."),
    ),
    assigned=(
        ("B", ("A!{B}, je te laisse {a}{due} ?", "B!Ça marche.")),
        ("A", ("A!Laissez, je me charge de {a}{due}.",)),
        ("A", ("B!Qui est disponible pour {a}{due} ?", "A!Moi, mets mon nom.")),
        ("B", ("A!{B}, ça t'irait de {a}{due} ?", "B!Oui, je prends.")),
        ("B", ("B!Quelqu'un devrait {a}.", "A!Ça tombe sur toi, {B}.", "B!Bon, d'accord, je le fais{due}.")),
        ("P", ("A!{P}, tu prends celui-là ? Il faut {a}{due}.", "P!Oui, pas de souci.")),
        ("P", ("A!Prochaine étape : {a}{due}.", "A!{P} s'en occupe.", "P!Oui, c'est pour moi.")),
        ("team", ("A!On confie à {team} le soin de {a}{due}.", "B:Je les préviens.")),
        ("team", ("A!Ça, c'est pour {team} : {a}{due}.",)),
        ("A", ("A!Mets-moi sur ce point : {a}{due}.", "B:Entendu.")),
    ),
    canonical_action="{owner} va {a}.",
    status=(
        ("A:Petit point sur {t} : tout va bien.",),
        ("A:{B}, ça donne quoi, {t} ?", "B:{how}."),
        ("A:Qu'est-ce qui bloque sur {t} ?", "B:Surtout le fait que {why}.", "A:D'accord."),
        ("A:Des nouvelles du terrain sur {t} ?", "B:Oui, {heard}."),
        ("A:J'ai regardé {t} ce matin.", "A:C'est en meilleur état que je ne le craignais."),
        ("A:On a eu {n} inscriptions pour {t} hier.", "B:C'est bien ?", "A:C'est le double du mois dernier."),
        ("A:Est-ce que {t} risque de glisser ?", "B:Un peu, parce que {why}."),
        ("A:Bravo à {P} pour {t}.", "B:Oui, beau travail."),
        ("A:Rappelle-moi, qui avait demandé {t} au départ ?", "B:Les clients, surtout."),
        ("A:Sur {t}, on dépasse le budget d'environ {n} pour cent.", "B:Ça reste raisonnable."),
        ("A:Je peux dire un mot sur {t} ?", "B:Vas-y.", "A:J'ai l'impression que {heard}."),
        ("A:{T}, c'est calme cette semaine.", "B:C'est bon signe."),
        ("A:Combien de plaintes sur {t} ?", "B:Seulement {n}, rien de grave."),
        ("A:Est-ce qu'on a tenu les délais sur {t} ?", "B:Presque, {n} jours de retard, parce que {why}."),
        ("A:{P} me dit que {t} se passe bien.", "B:Tant mieux."),
        ("A:Où en est-on vraiment sur {t} ?", "B:{how}, et {heard}."),
    ),
    negatives=(
        ("A:Et si on essayait de {d} ?", "B:Ça ne me convainc pas.", "A:Bon, on garde l'idée sous le coude."),
        ("B:Quelqu'un a suggéré de {d}.", "A:On a regardé le mois dernier, et c'était non."),
        ("A:Au final, on va {d} ou pas ?", "B:On verra après le prochain trimestre."),
        ("A:Ça vous dirait de {d} ?", "B:Laisse-moi y réfléchir.", "A:Bien sûr, rien ne presse."),
        ("A:Les collègues de Madrid m'ont dit qu'ils avaient décidé de {d}.", "B:Tant mieux pour eux."),
        (
            "A:{P} a entendu dire que nos partenaires avaient décidé de {d}.",
            "B:Ils ont dit pourquoi ?",
            "A:Aucune idée.",
        ),
        ("A:Il paraît que la direction aimerait {d}.", "B:Personne ne nous a rien demandé."),
        ("A:Imaginons qu'on décide de {d}, qu'est-ce que ça change pour {t} ?", "B:Difficile à dire."),
        ("A:Si on avait le budget, je me chargerais volontiers de {a}.", "B:On ne l'aura pas, hélas."),
        ("A:Dans un monde idéal, on pourrait {d} dès demain.", "B:Dans un monde idéal, oui."),
        (
            "A:Qui veut {a} ?",
            "B:Pas tous en même temps, surtout.",
            "A:Bon, on trouvera un volontaire un autre jour.",
        ),
        ("A:Allez, on n'a qu'à {d} et rentrer chez nous.", "B:Bien essayé."),
        (
            "A:{B}, tu pourrais {a} cette semaine ?",
            "B:Franchement non, je suis sous l'eau.",
            "A:D'accord, ça peut attendre.",
        ),
        ("A:Bonne nouvelle, {P} a déjà {done}.", "B:Ah super, une chose de moins."),
        ("A:Vous pouvez rayer ça de la liste, j'ai {done} mardi.",),
        ("A:Il reste quoi de la dernière fois ?", "B:Pas grand-chose, j'ai {done} hier."),
        ("A:Je partage mon écran.", "B:On le voit."),
        ("A:Je vais faire court, on est en retard.",),
        ("A:La dernière fois, on s'est mis d'accord sur une seule chose : rien.", "B:Ça me semble juste."),
        ("A:Pardon, j'avais coupé mon micro.", "B:Pas de souci."),
        ("A:Il y a des années, on avait choisi de {d}, et on l'a regretté.", "B:N'y revenons pas."),
        ("A:Est-ce que quelqu'un s'occupe vraiment de {t} ?", "B:Bonne question, je ne sais pas."),
        ("A:On n'avait pas dit qu'on allait {d} ?", "B:Non, c'était juste une idée.", "A:Au temps pour moi."),
    ),
    transitions=("A:Bon, {t} maintenant.", "A:On attaque {t} ?", "A:Au tour de {t}."),
    openings=(
        ("A:Salut tout le monde, merci d'être là.", "B:Salut {A}.", "A:On démarre avec {t}."),
        ("A:Bonjour à vous deux, {B} et {P}.", "B:Bonjour {A}.", "A:On attaque directement avec {t}."),
    ),
    closings=(
        ("A:Bon, je crois qu'on a fait le tour.", "B:Merci {A}.", "A:Merci à tous, bonne journée."),
        ("A:Un dernier mot, quelqu'un ?", "B:Rien de mon côté.", "A:Parfait, on s'arrête là."),
    ),
    words_per_s=4.0,
    french=True,
)
