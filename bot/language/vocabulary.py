"""Every translated table that lives in Python, in one place (the responses are in domain/).

Each table is keyed by language code (``{"en": …, "es": …, "fr": …, "ar": …}``) or by a choice
whose names are keyed by language code; tests/test_vocabulary.py checks that each one has
exactly the supported languages (:data:`bot.language.detect.SUPPORTED`), so a fifth language
is added here, in domain/ and in data/, and the test says which table still lacks it.

Only data: nothing here imports the rest of CivicLine. The words that *recognise* what people
type (month and weekday names in every spelling, keyword lists) are mixed across languages and
stay beside the code that matches them (bot/domain/dates.py, bot/domain/forms.py, …).
"""

from __future__ import annotations

from dataclasses import dataclass

# --- languages ---

# The names of each language: the first is its English name, as staff see it (the console);
# all of them, folded, are what a short message names to ask for that language
# (bot.language.detect.explicit_request).
LANGUAGE_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("English", "ingles", "anglais", "inglese", "انجليزي", "إنجليزي", "الانجليزية",
           "الإنجليزية", "انكليزي", "بالانجليزي", "بالإنجليزية", "بالانجليزية"),
    "es": ("Spanish", "espanol", "castellano", "espagnol", "espanish", "اسباني", "إسباني",
           "الاسبانية", "الإسبانية", "بالاسباني", "بالإسبانية"),
    "fr": ("French", "francais", "frances", "franc", "فرنسي", "الفرنسية", "بالفرنسي",
           "بالفرنسية", "فرنساوي", "fransawiya", "fransawi", "fransiya"),
    "ar": ("Arabic", "arabe", "arab", "عربي", "العربية", "بالعربي", "بالعربية", "عربية",
           "darija", "arbiya", "arabiya"),  # Darija in Latin letters: "bl3arbiya" -> "arbiya"
}
# Each language's English name (the console's language lists and filters).
ENGLISH_NAMES = {code: names[0] for code, names in LANGUAGE_NAMES.items()}

# --- days and months (offices' hours, booking days, dates read back) ---

DAY_NAMES = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "ar": ("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"),
}
DAY_SHORT = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "es": ("lun", "mar", "mié", "jue", "vie", "sáb", "dom"),
    "fr": ("lun", "mar", "mer", "jeu", "ven", "sam", "dim"),
    "ar": DAY_NAMES["ar"],  # Arabic names stay whole
}
MONTH_NAMES = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"),
    "ar": ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر",
           "أكتوبر", "نوفمبر", "ديسمبر"),
}
MONTH_SHORT = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "es": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"),
    "fr": ("janv", "févr", "mars", "avr", "mai", "juin", "juil", "août", "sept", "oct", "nov",
           "déc"),
    "ar": MONTH_NAMES["ar"],  # Arabic names stay whole
}
# "today", "tomorrow", "on Monday": when a person will be called back (actions/handoff.py).
DAY_WORDS = {
    "en": ("today", "tomorrow", "on {day}"),
    "es": ("hoy", "mañana", "el {day}"),
    "fr": ("aujourd'hui", "demain", "{day}"),
    "ar": ("اليوم", "غدا", "يوم {day}"),
}
LIST_SEPARATOR = {"en": ", ", "es": ", ", "fr": ", ", "ar": "، "}

# --- the names of choices ---

# Kinds of problem a report may be about (bot/domain/forms.py).
KIND_NAMES = {
    "pothole": {"en": "Pothole", "es": "Bache", "fr": "Nid-de-poule", "ar": "حفرة"},
    "street_light": {"en": "Street light", "es": "Farola", "fr": "Lampadaire",
                     "ar": "إنارة الشارع"},
    "overflowing_bin": {"en": "Full bin", "es": "Contenedor lleno", "fr": "Poubelle pleine",
                        "ar": "حاوية ممتلئة"},
    "graffiti": {"en": "Graffiti", "es": "Pintadas", "fr": "Graffiti", "ar": "كتابة على الجدران"},
    "flooding": {"en": "Flooding", "es": "Inundación", "fr": "Inondation", "ar": "فيضان"},
    "fly_tipping": {"en": "Dumped rubbish", "es": "Basura tirada", "fr": "Dépôt sauvage",
                    "ar": "رمي النفايات"},
    "other": {"en": "Other problem", "es": "Otro problema", "fr": "Autre problème",
              "ar": "مشكلة أخرى"},
}
CONTACT_NAMES = {
    "this_channel": {"en": "a message here", "es": "un mensaje como este",
                     "fr": "un message ici", "ar": "رسالة هنا"},
    "phone_call": {"en": "a phone call", "es": "una llamada", "fr": "un appel",
                   "ar": "مكالمة هاتفية"},
    "no_contact": {"en": "no contact", "es": "sin contacto", "fr": "pas de contact",
                   "ar": "بدون تواصل"},
}
PHOTO_NAMES = {"yes": {"en": "yes", "es": "sí", "fr": "oui", "ar": "نعم"},
               "no": {"en": "no", "es": "no", "fr": "non", "ar": "لا"}}
# Names of a form's answers, for "what do you want to change?" buttons.
FIELD_NAMES = {
    "problem_kind": {"en": "The problem", "es": "El problema", "fr": "Le problème",
                     "ar": "المشكلة"},
    "problem_place": {"en": "The place", "es": "El lugar", "fr": "Le lieu", "ar": "المكان"},
    "problem_photo": {"en": "The photo", "es": "La foto", "fr": "La photo", "ar": "الصورة"},
    "contact_preference": {"en": "How we contact you", "es": "Cómo le contactamos",
                           "fr": "Comment vous joindre", "ar": "طريقة التواصل"},
    "appointment_service": {"en": "What it is for", "es": "Para qué es", "fr": "Le motif",
                            "ar": "سبب الموعد"},
    "appointment_office": {"en": "The office", "es": "La oficina", "fr": "Le bureau",
                           "ar": "المكتب"},
    "appointment_day": {"en": "The day", "es": "El día", "fr": "Le jour", "ar": "اليوم"},
    "appointment_time": {"en": "The time", "es": "La hora", "fr": "L'heure", "ar": "الوقت"},
}
# Open case statuses as a short label in a list of the person's cases (bot/domain/case_help.py).
STATUS_NAMES = {
    "received": {"en": "received", "es": "recibido", "fr": "reçu", "ar": "تم الاستلام"},
    "in_review": {"en": "in review", "es": "en revisión", "fr": "en cours d'examen",
                  "ar": "قيد المراجعة"},
    "needs_information": {"en": "we need papers", "es": "faltan documentos",
                          "fr": "il manque des papiers", "ar": "نحتاج أوراقا"},
}
# The button that offers a person beside a list of cases (actions/status.py).
PERSON_BUTTON = {"en": "Talk to a person", "es": "Hablar con una persona",
                 "fr": "Parler à une personne", "ar": "التحدث مع موظف"}

# --- the voice of a call (bot/messaging/voice/) ---


@dataclass(frozen=True)
class VoiceProfile:
    """How to speak and hear one language on Twilio."""

    say_language: str  # <Say language>
    voice: str  # <Say voice>: an Amazon Polly voice that speaks it
    gather_language: str  # <Gather language>: speech recognition (BCP-47)


VOICES: dict[str, VoiceProfile] = {
    "en": VoiceProfile("en-US", "Polly.Joanna", "en-US"),
    "es": VoiceProfile("es-US", "Polly.Lupe", "es-US"),
    "fr": VoiceProfile("fr-FR", "Polly.Lea", "fr-FR"),
    "ar": VoiceProfile("arb", "Polly.Zeina", "ar-SA"),
}
# What a caller may say at the language menu, per language (speech recognition hints).
SPOKEN_LANGUAGE_NAMES = {
    "en": ("English",),
    "es": ("Español", "Spanish"),
    "fr": ("Français", "French"),
    "ar": ("Arabic", "عربي"),
}
LANGUAGE_HINTS = tuple(name for names in SPOKEN_LANGUAGE_NAMES.values() for name in names)
# Opening hours said aloud: "Monday to Thursday, 9 in the morning to 5 in the afternoon".
SPOKEN_DAY_RANGE = {"en": "{first} to {last},", "es": "de {first} a {last},",
                    "fr": "du {first} au {last},", "ar": "من {first} إلى {last}،"}
SPOKEN_DAY_ONE = {"en": "{day},", "es": "{day},", "fr": "le {day},", "ar": "{day}،"}
SPOKEN_TIME_RANGE = {"en": "{start} to {end}", "es": "de {start} a {end}",
                     "fr": "de {start} à {end}", "ar": "من {start} إلى {end}"}
# USSD's own words (bot/messaging/ussd/): a screen of at most 182 characters read on a basic
# phone, answered with the keypad. Paging keys lead ("9 More", "0 Back"), as operators show them.
USSD_TEXTS = {
    "more": {"en": "9 More", "es": "9 Más", "fr": "9 Suite", "ar": "9 المزيد"},
    "back": {"en": "0 Back", "es": "0 Atrás", "fr": "0 Retour", "ar": "0 رجوع"},
    "menu": {"en": "Menu", "es": "Menú", "fr": "Menu", "ar": "القائمة"},
    "date_keys": {"en": "Type 8 digits, day month year, like 12031985.",
                  "es": "Escriba 8 cifras, día mes año, como 12031985.",
                  "fr": "Tapez 8 chiffres, jour mois année, comme 12031985.",
                  "ar": "اكتب 8 أرقام، يوم شهر سنة، مثل 12031985."},
    "read_back": {"en": "You typed {value}. Is that right?",
                  "es": "Ha escrito {value}. ¿Es correcto?",
                  "fr": "Vous avez tapé {value}. C'est bien ça ?",
                  "ar": "كتبت {value}. هل هذا صحيح؟"},
    "yes": {"en": "Yes", "es": "Sí", "fr": "Oui", "ar": "نعم"},
    "again": {"en": "Type it again", "es": "Escribir otra vez", "fr": "Retaper",
              "ar": "اكتب من جديد"},
    "long_answer": {"en": "This needs a longer answer. We can go on by SMS.",
                    "es": "Esto necesita una respuesta más larga. Podemos seguir por SMS.",
                    "fr": "Il faut une réponse plus longue. Continuons par SMS.",
                    "ar": "هذا يحتاج إلى جواب أطول. يمكننا المتابعة برسالة SMS."},
    "by_sms": {"en": "Go on by SMS", "es": "Seguir por SMS", "fr": "Continuer par SMS",
               "ar": "المتابعة برسالة SMS"},
    "sms_sent": {"en": "We sent you an SMS. Reply to it to go on.",
                 "es": "Le enviamos un SMS. Respóndalo para seguir.",
                 "fr": "Nous vous avons envoyé un SMS. Répondez-y pour continuer.",
                 "ar": "أرسلنا لك رسالة SMS. رد عليها للمتابعة."},
    "sms_intro": {"en": "To go on, reply to this SMS.",
                  "es": "Para seguir, responda a este SMS.",
                  "fr": "Pour continuer, répondez à ce SMS.",
                  "ar": "للمتابعة، رد على هذه الرسالة."},
    "goodbye": {"en": "Thank you. Goodbye.", "es": "Gracias. Adiós.", "fr": "Merci. Au revoir.",
                "ar": "شكرا. مع السلامة."},
    # The conversation is with a person (handed off): the session closes; replies go by SMS.
    "queued_by_sms": {"en": "They will answer you by SMS.",
                      "es": "Le van a responder por SMS.",
                      "fr": "Elle vous répondra par SMS.",
                      "ar": "سيرد عليك برسالة SMS."},
    "with_person": {"en": "A person has your request and will contact you by SMS. Thank you.",
                    "es": "Una persona tiene su solicitud y le va a contactar por SMS. Gracias.",
                    "fr": "Une personne a votre demande et vous contactera par SMS. Merci.",
                    "ar": "طلبك عند موظف وسيتواصل معك برسالة SMS. شكرا."},
}
