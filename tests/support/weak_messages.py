"""First messages whose language is weakly evidenced (issue 13): one or two words, Arabic in
Latin letters (Moroccan Darija), and mixes of languages. Written for the tests, none a training
example (tests/test_language.py checks they are held out of data/nlu).

Each is listed under the language it is written in (for a mix, the one it mostly is): the
assistant must answer it with the language menu or in that language, never in another one.
"""

from __future__ import annotations

WEAK_FIRST_MESSAGES: dict[str, list[str]] = {
    "en": [
        # one or two words
        "any update", "my case", "plzz help", "plz help", "office times", "wifi", "bus",
        "appointment", "status", "yo there", "thanx pal", "cheers pal", "ta ta", "pothole",
        "streetlight out", "portal broken", "login issue", "call back", "human pls", "where office",
        "case progress", "track my app", "book appt", "reset password", "free internet",
        "computer class", "bin missed", "recycle bin", "bus late", "assist pls", "anyone?",
        "thanks pal", "quick q", "app status", "appt pls",
        # mostly English, a Spanish word or two
        "hi amigo, my case?", "hello, gracias", "book appointment mañana", "help por favor",
        "thanks amigo",
    ],
    "es": [
        "ayuda xfavor", "mi caso", "una cita", "holiii", "buenas tardess", "grax amigo",
        "adiosito", "bache", "farola", "wifi libre", "contraseña", "autobús", "basura",
        "oficina", "horario", "agente", "k tal", "xfa ayuda", "mi solicitud", "tramite",
        "olvidé clave", "mil grax", "ciao nos vemos", "pedir cita", "estado solicitud",
        "necesito asistencia", "quiero cita", "buen dia señora", "hablar persona", "qué horario",
        # Spanish and English
        "necesito una appointment", "mi application", "hablar con un agent", "el bus no llega",
        "hola, my case?", "donde esta el office", "ayuda con mi password", "la website no funciona",
        "necesito help porfa", "quiero book una cita",
    ],
    "fr": [
        "bjr bjr", "cc cv", "mon dossier", "rdv", "un rdv svp", "aidez moi stp", "mrc beaucoup",
        "bne soirée", "horaires", "poubelles", "mdp perdu", "internet gratuit", "conseiller",
        "qqn svp", "nid de poule", "lampadaire", "suivi dossier", "bsr bsr", "a tt",
        "encore merci", "fixer rdv", "la mairie", "site en panne", "bus annulé",
        "ramassage ordures", "une personne", "besoin aide", "quel horaire",
        # French and Darija
        "salut khouya mon dossier", "bonjour 3afak un rdv", "wesh mon dossier",
        "svp fin la mairie", "merci bzaf les gars", "bonjour wach le site marche",
        "inchallah un rdv demain", "salam je veux un rdv", "slt bghit mon dossier",
        "bonsoir khoya aide moi", "la mairie fin kayna", "mon mot de passe 3afak",
    ],
    "ar": [
        # Darija in Latin letters
        "salam bghit nchouf dossier dyali", "wach kayn chi wa7ed", "salam 3afak", "bghit rdv",
        "fin kayn lbureau dyalkom", "3afak", "chokran bzaf a khoya", "wach site khdam lyoum",
        "bghit nhder m3a chi wa7ed 3afak", "salam alikom", "slm cv", "fin wsal talab",
        "dossier dyali 3afak", "bghit maw3id ghda", "kayn 7fra kbira", "nsit lmot de passe",
        "lbus ma jach", "bslama chokran", "wakha a khoya", "la chokran bzaf", "3tini bnadem",
        "salam khoya", "labas", "bghit n3ref dossier", "fin la mairie 3afak",
        "wach zbel ghadi ydouz", "ana m7taj mosa3ada", "kifach ndir rdv", "salam lah y7fdek",
        "wa7ed so2al",
        # one or two words in Arabic script
        "مرحبتين بيكم", "ملفي", "ابي موعد", "شكرا يا خويا", "ساعدوني بليز", "سلام يا جماعة",
        "البلدية", "واش كاين", "بغيت نشوف ملفي", "فين الملف",
    ],
}
