"""Whose contact detail is it? The grammar around a value decides, not a list of phrases.

The nearest person reference before the value, within its sentence, names the owner: a
first-person word (``me``, ``my``, ``mir``, ``moi``, ``mijn``, ``私`` …) makes it the poster's
own; a third-person one (``her``, ``seine``, ``son``, a capitalised name, ``my sister``) makes it
someone else's. A first-person word inside a relative clause (``the guy who doxxed me``) says
who was acted on, not whose detail follows, so it does not count. With nothing before the
value, a first-person word just after it (``… (me)``, ``… que eu respondo``) makes it one's
own. With no person at all the answer is "unknown", and the rule decides as before.

A value with no person before it is still the poster's when it signs off a post (``Best,
Ana`` or ``— Ana Ruiz`` just above it, ``Cheers, Tom (t@…)``), when it answers a question put to
the readers (``questions about my talk? t@…``), or when an imperative to the readers leads
straight into it (``mejlujcie na …``, ``bana ulaş: …``, ``call …``); a named person or a
third-person word in between still makes it someone else's.

The same grammar tells whose document or account number it is ("my passport number is …",
"my sort code …"). Capitalised codes ("US", "MI" for Michigan, "(I)" for Italy) are not
pronouns unless the whole clause is written in capitals.

Languages: en, de, fr, es, it, nl, pt, pl, sv/no/da, tr, ko, and the Japanese first-person
pronouns and polite requests.
"""

from __future__ import annotations

import re
from typing import Literal

Owner = Literal["own", "other"]

# How far either side of a value is read (characters); a sentence usually ends sooner.
_BEFORE = 160
_AFTER = 40

_FIRST = frozenset("""
i me my mine myself i'm im i've i'll i'd we us our ours ourselves we're we've
ich mich mir mein meine meiner meinen meinem meines wir uns unser unsere unserer unseren unserem
je j moi m mon ma mes nous notre nos
yo mí mis mío mía nosotros nosotras nuestro nuestra nuestros nuestras
io mio mia miei mie noi ci nostro nostra nostri nostre
ik mij mijn wij ons onze
eu mim meu minha meus minhas nós nosso nossa nossos nossas comigo
mnie mój moja moje mojego mojej moim moją mną nasz nasza nasze
jag mig jeg meg oss vår vårt våra vores
ben bana beni benim bende benden biz bize bizi bizim adresim numaram numaramı telefonum
mailim postam hesabım
제 저 저의 저한테 저에게 제게 내 나 나의 나한테 저희
""".split())
# "me" and "mi" are first person in every language that has them (en, fr, es, it, pt, nl, pl).
_AMBIGUOUS_FIRST = frozenset({"me", "mi"})
_ALL_FIRST = _FIRST | _AMBIGUOUS_FIRST
_THIRD = frozenset("""
he him his she her hers they them their theirs himself herself themselves he's she's they're
er ihn ihm sein seine seiner seinen seinem seines
il elle lui son sa ses leur leurs ils elles
él ella ellos ellas suyo suya
lei suo sua suoi sue loro gli
hij zij hem haar hun
ele ela dele dela deles delas
ona jego jej niego niej jemu
hon honom henne hans hennes deras hun ham hendes
onun ona onu onların
그 그의 그녀 그녀의 그분
""".split())
# People one can speak of with "my": "my sister's number" is the sister's.
_RELATIONS = frozenset("""
sister brother mum mom mother dad father wife husband partner boyfriend girlfriend ex son
daughter friend bestie neighbour neighbor landlord landlady boss manager colleague coworker
co-worker roommate flatmate housemate tenant client customer cousin aunt uncle grandma grandpa
grandmother grandfather niece nephew kid kids parents teacher doctor dentist lawyer
babysitter nanny cleaner assistant mate buddy fiancé fiancée fiance fiancee
schwester bruder mutter mama vater papa frau mann freund freundin nachbar nachbarin chef chefin
kollege kollegin vermieter vermieterin sohn tochter oma opa tante onkel
sœur soeur frère frere mère mere père pere femme mari ami amie voisin voisine patron patronne
collègue collegue fils fille copain copine cousin cousine
hermana hermano madre padre mujer esposa esposo marido amigo amiga vecino vecina jefe jefa
compañero compañera hijo hija novio novia primo prima
sorella fratello moglie amico amica vicino vicina capo collega figlio figlia fidanzato fidanzata
zus broer moeder vader vrouw vriend vriendin buurman buurvrouw baas collega dochter
irmã irmão mãe pai vizinho vizinha chefe colega filho filha namorado namorada
siostra brat żona mąż przyjaciel przyjaciółka sąsiad sąsiadka szef szefowa kolega koleżanka
""".split())
# Relative pronouns: a first-person word after one, in the same clause, belongs to the clause.
_RELATIVE = frozenset({"who", "whom", "whose"})
# Capitalised words that begin sentences or name things, never a person.
_NOT_NAMES = frozenset("""
the a an this that these those my your our his her their
der die das den dem des ein eine einen einem mein meine dein deine sein seine unser
le la les un une mon ma ton ta son sa notre votre
el los las una mi tu su
il lo gli uno
de het een mijn
o os um uma meu minha
""".split())
_CJK_FIRST = ("私", "僕", "俺", "自分", "わたし", "あたし", "ぼく", "うち")
_CJK_THIRD = ("彼女", "彼", "さん", "くん", "様", "氏")

# Japanese polite requests after a value (``… までお願いします``): the poster asks to be written to.
_CJK_REQUEST = ("お願いします", "お願い致します", "ご連絡ください", "ください")

_LATIN = r"[A-Za-zÀ-ÖØ-öø-ɏ]"
_WORD = re.compile(rf"{_LATIN}+(?:['’]{_LATIN}+)?|[\u3040-\u30ff\u4e00-\u9fff]+|[\uac00-\ud7af]+")
# The end of a sentence: . ! ? ; or a line break (a dot inside an e-mail or a number is not).
# An initial after a name ("Rahul H. has it") does not end the sentence.
_SENTENCE_END = re.compile(r"(?:(?<![\s(\[][A-Z])\.|[!?;。！？])(?=\s|$)|[!?。！？]|\n")
# Spanish and Portuguese imperatives with an attached object pronoun (escríbeme, llámame),
# Italian ones (chiamami, scrivetemi): the pronoun is the poster.
_CLITIC_ES = re.compile(r"^\w*[áéíóú]\w*(?:me|nos)$")
_CLITIC_IT = re.compile(r"^\w{3,}(?:ami|imi|emi|atemi|etemi|itemi)$")
_NOT_CLITIC = frozenset({"tsunami", "salami", "origami", "miami", "pastrami", "swami", "semi",
                         "extremi", "supremi"})


def _is_first(low: str) -> bool:
    if low in _FIRST or low in _AMBIGUOUS_FIRST:
        return True
    if low[:2] in ("m'", "j'") and len(low) > 2:  # French elision: m'écrire, j'ai
        return True
    return low not in _NOT_CLITIC and bool(_CLITIC_ES.match(low) or _CLITIC_IT.match(low))


def _is_capitalised(word: str) -> bool:
    return word[:1].isupper() and word[1:2].islower() and word.lower() not in _NOT_NAMES


def _shouting(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and sum(c.isupper() for c in letters) * 2 > len(letters)


def _refs(text: str) -> list[tuple[int, Owner]]:
    """Person references in ``text``: (position, whose) in order of appearance."""
    out: list[tuple[int, Owner]] = []
    matches = list(_WORD.finditer(text))
    tokens = [m.group(0) for m in matches]
    in_relative = False
    # In a post not written in capitals, "US", "MI" or "ME" are codes (a country, a state).
    codes = not _shouting(text)
    for i, m in enumerate(matches):
        word = tokens[i]
        if "\u3040" <= word[0] <= "\u9fff":
            for ch in _CJK_FIRST:
                k = word.find(ch)
                if k >= 0:
                    out.append((m.start() + k, "own"))
            for ch in _CJK_THIRD:
                k = word.find(ch)
                if k >= 0:
                    out.append((m.start() + k, "other"))
            continue
        low = word.lower().replace("’", "'")
        base = low[:-2] if low.endswith("'s") else low
        if (len(word) == 1 and word.isupper() and text[m.end():m.end() + 1] == "." and i > 0
                and _is_capitalised(tokens[i - 1]) and matches[i - 1].end() + 1 == m.start()):
            # "Mateo I.", "Rahul H.": a first name and an initial are a person, not "I".
            if not out or out[-1][0] != matches[i - 1].start():
                out.append((matches[i - 1].start(), "other"))
            continue
        if low in _RELATIVE:
            in_relative = True
            continue
        if base in _RELATIONS and i and tokens[i - 1].lower() in _POSSESSIVE_FIRST | {"the"}:
            out.append((m.start(), "other"))
            continue
        if base in _RELATIONS and low.endswith("'s"):
            out.append((m.start(), "other"))
            continue
        if low in _THIRD:
            out.append((m.start(), "other"))
            continue
        # A capitalised word beside another is part of a name, even one that ends like an
        # Italian imperative with its pronoun ("Mateus Adeyemi"); "Escríbeme:" alone is a verb.
        clitic_name = (word[:1].isupper() and low not in _ALL_FIRST and i > 0
                       and _is_capitalised(tokens[i - 1]))
        if _is_first(low) and not clitic_name:
            if codes and len(word) > 1 and word.isupper():
                continue
            if not in_relative and (low not in _POSSESSIVE_SINGULAR or _governs_contact(tokens, i)):
                out.append((m.start(), "own"))
            continue
        if _is_capitalised(word):
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
            follows_name = (i > 0 and _is_capitalised(tokens[i - 1])
                            and matches[i - 1].end() + 1 >= m.start())
            if (low.endswith("'s") or follows_name
                    or (_is_capitalised(nxt) and i + 1 < len(matches)
                        and m.end() + 1 >= matches[i + 1].start())):
                # A name: two capitalised words side by side, or one with a possessive 's.
                if i > 0 and follows_name:
                    continue  # the first word of the name was reported already
                out.append((m.start(), "other"))
    return out


_POSSESSIVE_FIRST = frozenset({"my", "our", "mein", "meine", "meinem", "meiner", "meinen",
                               "unser", "unsere", "mon", "ma", "mes", "notre", "mi", "mis",
                               "nuestro", "nuestra", "mio", "mia", "il", "la", "mijn", "onze",
                               "meu", "minha", "mój", "moja", "moje", "mojego", "mojej",
                               "min", "mitt", "mina"})


# Nouns for a way to reach someone: "my" before one of them (with up to two words between,
# "my new work number") makes the detail the poster's; "my portfolio" says nothing of whose
# address follows.
_CONTACT_NOUNS = frozenset("""
email e-mail mail address number phone cell mobile inbox signal whatsapp telegram contact
contacts details line landline digits handle dms dm
handy nummer telefonnummer handynummer adresse anschrift telefon
numéro numero portable courriel téléphone telephone
correo móvil movil número teléfono telefono celular
cellulare indirizzo
dirección direccion endereço endereco adres adresa
telefoon mobiel
zap telemóvel
numer komórka komórki telefonu maila mail
mejl mejladress adress telefonnummer mobilnummer e-post epost mobil
""".split())


# The poster's own documents and accounts: "my passport: …", "my DL is …", "my sort code …"
# are theirs to share.
_DOCUMENT_NOUNS = frozenset("""
passport passports reisepass passeport pasaporte passaporto paspoort licence license dl
member policy sort routing iban account bank konto rekening compte cuenta conto rachunek
""".split())


def _governs_contact(tokens: list[str], i: int) -> bool:
    for word in tokens[i + 1:i + 4]:
        noun = word.lower().replace("’", "'").removesuffix("'s")
        if noun in _CONTACT_NOUNS or noun in _DOCUMENT_NOUNS:
            return True
        if "\u3040" <= word[0] <= "\u9fff":
            return True
    return i + 1 >= len(tokens)


# "my" must govern a contact noun; "our" (our team, our office) speaks for the poster's group.
_POSSESSIVE_SINGULAR = frozenset({"my", "mein", "meine", "meinem", "meiner", "meinen", "mon",
                                  "ma", "mes", "mi", "mis", "mio", "mia", "mijn", "meu", "minha",
                                  "mój", "moja", "moje", "mojego", "mojej", "min", "mitt",
                                  "mina"})


def _sentence_start(text: str, pos: int) -> int:
    lo = max(0, pos - _BEFORE)
    start = lo
    for m in _SENTENCE_END.finditer(text, lo, pos):
        start = m.end()
    return start


def _sentence_end(text: str, pos: int) -> int:
    hi = min(len(text), pos + _AFTER)
    m = _SENTENCE_END.search(text, pos, hi)
    return m.start() if m else hi


_NAME = r"[A-ZÀ-ÖØ-Þ][A-Za-zÀ-ÖØ-öø-ɏ'’-]+"
# A sign-off just above or before the value: a dash and a name on the line, or a closing word
# (any language) and a name, then the value on the next line or in brackets.
_SIGNED = re.compile(
    rf"(?:^|\n)[ \t]*(?:[—–]|--?)[ \t]*{_NAME}(?:[ \t]+{_NAME})?[ \t]*[\n(|][ \t]*$"
    r"|(?:^|\n|[.!] )[ \t]*(?i:best|best wishes|all the best|cheers|regards|kind regards|"
    r"best regards|warm regards|thanks|many thanks|thank you|thx|saludos|un saludo|un abrazo|"
    r"grüße|gruß|viele grüße|liebe grüße|lg|mfg|cordialement|bien à vous|bises|amitiés|"
    r"pozdrawiam|pozdrowienia|mvh|hälsningar|vänliga hälsningar|med venlig hilsen|hilsen|"
    r"groeten|groetjes|met vriendelijke groet|abraços|cumprimentos|atenciosamente|saluti|"
    r"cordiali saluti|un saluto|saygılarımla|sevgiler)"
    rf"[ \t]*[,!]?[ \t]*\n?[ \t]*{_NAME}(?:[ \t]+{_NAME})?[ \t]*[\n(|,:]?[ \t]*$")
# Imperatives to the readers that lead straight into a contact ("mejlujcie na …", "ring …").
_IMPERATIVES = frozenset("""
email e-mail mail write text call ring phone dm message contact reach ping whatsapp
schreib schreibt ruf ruft écrivez écris appelez appelle escribid llamad scrivete chiamate
bel mailen schrijf skriv ringa maila mejla
piszcie napiszcie napisz pisz dzwońcie zadzwońcie zadzwoń dzwoń mejlujcie mailujcie
ulaş ulaşın yazın yaz arayın ara
""".split())
# Words that may stand before an imperative to the readers ("please email …", "bitte mailt …").
_COURTESY = frozenset("""
please pls plz just simply or and also then bitte gerne gern plaît favor proszę lütfen gärna
""".split())
_ASKS_READER = re.compile(r"\b(?:your|you|ur|u|dein|deine|ihre|votre|ton|ta|tu|su)\b", re.I)
_LEAD_INS = frozenset("at on to via na pod an à au a al su op på til till per me mi".split())


def _leads_in(text: str) -> bool:
    """Whether ``text`` (the clause just before a value) is an imperative to the readers
    followed only by prepositions: no person stands between the verb and the value.

    The verb must open its clause (or follow a courtesy word): "this email x" and a
    "Phone: x" label are nouns naming a value, not the poster offering it."""
    if text.rstrip().endswith(":"):
        return False
    spans = [(m.group().lower(), m.start()) for m in _WORD.finditer(text)][-4:]
    while spans and spans[-1][0] in _LEAD_INS:
        spans.pop()
    if not spans or spans[-1][0] not in _IMPERATIVES:
        return False
    verb_at = spans[-1][1]
    opening = text[:verb_at].rstrip()
    if not opening or opening[-1] in ",;:-–—(/|":
        return True
    word = _WORD.findall(opening)
    return bool(word) and word[-1].lower() in _COURTESY


# An aside in brackets that closed before the value ("(don't ask how I found it)") says
# nothing of whose the value is; a single word in brackets ("the address below (me):") does.
_ASIDE = re.compile(r"\([^()\n]{0,40}\s[^()\n]{0,40}\)")
# A code in brackets ("(I)" for Italy, "(US)") is not a person either.
_CODE_IN_BRACKETS = re.compile(r"\([A-Z]{1,3}\)")
# The poster was the one reached: the value is where the call or message came from.
_RECEIVED_FROM = re.compile(
    r"(?i)\b(?:called|rang|texted|messaged|phoned|emailed|e-mailed|mailed|contacted|spammed|"
    r"harassed|calls|texts|messages|keeps calling|kept calling)\s+(?:me|us)\s+"
    r"(?:\w+\s+){0,3}?(?:from|using|off|via)\s*:?\s*$")
# Passing a detail on at someone's request: "asked me to post it here", "me pidió que le pasen".
_ASKED_TO_POST = re.compile(
    r"(?i)\b(?:asked|told|wants|wanted|needs|needed|begged|got)\s+(?:me|us)\s+to\s+"
    r"(?:post|share|send|pass|forward|put|write|give|drop)\b|"
    r"\b(?:me|nos)\s+(?:pidi[oó]|pidieron|pide|piden|pediu|pediram)\s+(?:que|para)\b|"
    r"\bmi\s+ha\s+chiesto\s+di\b|\bm['’]a\s+demand[ée]\s+de\b|\bhat\s+mich\s+gebeten\b")
# A contact noun "of" a named person: "el número de Priyanka", "Nummer von Camilas Vater".
_OF_NAME = re.compile(
    r"(?i:\b(?:number|phone|mobile|cell|e-?mail|address|número|numero|teléfono|telefono|móvil|"
    r"movil|celular|correo|dirección|direccion|nummer|handynummer|telefonnummer|handy|adresse|"
    r"anschrift|numéro|portable|cellulare|indirizzo|telefoon|adres|endereço|endereco|telemóvel|"
    r"numer|telefonu)\s+(?:de|del|von|vom|di|of|van|da|do|du|d'|för|til)\s?)"
    r"([A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]+)")
# An announcement opening the sentence: "new personal address, update your contacts: x".
_ANNOUNCED = re.compile(
    r"(?i)^\s*(?:(?:new|updated|changed)\s+(?:\w+\s+){0,2}?(?:e-?mail|mail|inbox|address|number|phone|"
    r"mobile|contact|cell)\b|(?:nueva|nuevo|neue|nouvelle|nouveau|nuovo|nuova|nieuw|nieuwe|"
    r"nowy|nowa|novo|nova)\s+(?:\w+\s+){0,2}?(?:\w+)\b)[^\n]{0,40}?(?:\b(?:update|save|add)\s+"
    r"(?:your|ur)\s+(?:contacts?|address book|phonebook)|[,:]\s*$)")
# The author offering their own details without a pronoun: "CV available on request: x@…",
# "Contact the author: x@…".
_SELF_OFFER = re.compile(
    r"(?i)\b(?:(?:cv|resume|résumé|portfolio|references)\s+(?:available\s+)?(?:on|upon)\s+"
    r"request|(?:contact|reach|email|e-mail|write\s+to)\s+the\s+(?:author|writer)|"
    r"about\s+the\s+author)\s*[:\-–—]?\s*$")
# The sentence before says the place is the poster's: "housewarming at my place saturday! x".
_OWN_PLACE = re.compile(
    r"(?i)\b(?:my|our)\s+(?:new\s+)?(?:place|flat|apartment|apt|house|home|pad)\b|"
    r"\bchez (?:moi|nous)\b|\bbei (?:mir|uns)\b|\ben (?:mi|nuestra) casa\b|"
    r"\bda (?:me|noi)\b|\bbij (?:mij|ons)\b|\bu (?:mnie|nas)\b")


# "driver's", "Priya's": a noun in the possessive. Contractions ("it's", "name's") are not.
_POSSESSIVE = re.compile(rf"\b({_LATIN}+)['’]s\b")
_CONTRACTIONS = frozenset("""
    it that what here there he she let who where how when why name one today tonight
    everyone everybody someone somebody nobody this
""".split())


def _possessor(lead: str) -> int | None:
    """Where the last possessive noun before the value starts, if any."""
    last = None
    for m in _POSSESSIVE.finditer(lead):
        if m.group(1).lower() in _CONTRACTIONS:
            continue
        prior = lead[:m.start()].split()
        if prior and prior[-1].lower() in _POSSESSIVE_FIRST:
            continue  # "my driver's licence": a compound the poster owns
        last = m.start()
    return last


_NAMED_IN_BRACKETS = re.compile(
    rf"[ \t]*[(\[][ \t]*(?:[A-ZÀ-ÖØ-Þ]{_LATIN}+[ \t]+(?:(?:van|von|de|der|den|da|del|di|du|le|la|dos|das|ter|ten)[ \t]+)*)+[A-ZÀ-ÖØ-Þ]{_LATIN}+(?:[ \t]*[,;]|[ \t]+(?:from|at|in|of|the|who)\b)")


def whose(text: str, start: int, end: int) -> Owner | None:
    """Whose contact detail ``text[start:end]`` is: "own", "other", or None (no one named)."""
    if _SIGNED.search(text[max(0, start - 90):start]):
        return "own"
    lo = _sentence_start(text, start)
    lead = _ASIDE.sub(lambda m: " " * len(m.group()), text[lo:start])
    lead = _CODE_IN_BRACKETS.sub(lambda m: " " * len(m.group()), lead)
    if _RECEIVED_FROM.search(lead):
        # "this scammer called me from x": "me" was called, the number is the caller's.
        return "other"
    before = _refs(lead)
    passed_on = _ASKED_TO_POST.search(lead)
    if passed_on and not any(pos >= passed_on.end() for pos, _ in before):
        # "the customer asked me to post it here: …": passed on for someone, so theirs.
        return "other"
    named = _OF_NAME.search(lead)
    if named and (not before or before[-1][0] < named.start(1)):
        return "other"
    owner = _possessor(lead)
    if owner is not None and (not before or before[-1][0] < owner):
        # "the other driver's licence is …", "the customer's card": a possessive names the owner.
        return "other"
    if _NAMED_IN_BRACKETS.match(text, end):
        # "posting so I don't lose it: x@… (Lucía Tanaka, the one who ordered …)": a name in
        # brackets straight after the value, described further, is its owner, whoever speaks.
        # A bare "(Ana Ruiz)" after "email me at …" may be the poster's own name: not this.
        return "other"
    if before:
        return before[-1][1]
    if _ANNOUNCED.match(lead) or _SELF_OFFER.search(lead) or (lo > 0 and not lead.strip(" \t:–—-")
                                  and _OWN_PLACE.search(text[_sentence_start(text, lo - 1):lo])):
        return "own"
    tail = text[end:_sentence_end(text, end)]
    after = _refs(tail)
    if _leads_in(text[lo:start]):
        # "call 0151 … tonight, it's the tenant's mobile": the words after name the owner.
        return "other" if after and after[0][1] == "other" else "own"
    if lo > 0 and text[lo - 1] == "?" and not text[lo:start].strip(" \t:–—-"):
        # A question to the readers answered by the value ("questions about my talk? t@…").
        question = text[_sentence_start(text, lo - 1):lo]
        asked = _refs(question)
        if asked and asked[-1][1] == "other":
            return "other"
        if not _ASKS_READER.search(question):  # "what's your email? x" is a dialogue
            return "own"
    if after and after[0][1] == "own":
        return "own"
    if any(w in tail for w in _CJK_REQUEST) and not any(w in tail for w in _CJK_THIRD):
        return "own"
    return None


def is_own(text: str, start: int, end: int) -> bool:
    """Whether the value at ``text[start:end]`` is the poster's own contact detail."""
    return whose(text, start, end) == "own"
