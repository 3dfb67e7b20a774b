"""The words that say what a character does, and the words around them that say it does not:
each pose's word forms, negation, all the cast at once, and noun compounds ('a sitting room')."""

from __future__ import annotations

import re
from collections.abc import Callable

POSES: dict[str, dict[str, str]] = {
    "en": {"running": r"run|runs|running|ran|races|raced|racing|dash|dashes|dashed|dashing"
                      r"|chase|chases|chased|chasing",
           "sleeping": r"sleep|sleeps|sleeping|asleep|slept|nap|naps|napped|napping|doze|dozes"
                       r"|dozed|dozing|snooze|snoozes|snoozed|snoozing|dream|dreams|dreamed"
                       r"|dreamt|dreaming",
           "flying": r"fly|flies|flying|flew|flown|soar|soars|soared|soaring|float|floats"
                     r"|floated|floating|glide|glides|glided|gliding",
           "waving": r"wav(?:e|es|ed|ing) (?:hello|goodbye|bye)|waving|waved",
           "hugging": r"hug|hugs|hugged|hugging|cuddle|cuddles|cuddled|cuddling|embrace"
                      r"|embraces|embraced|embracing",
           "sitting": r"sit|sits|sitting|sat|seated",
           "jumping": r"jump|jumps|jumped|jumping|leap|leaps|leaped|leapt|leaping|hop|hops"
                      r"|hopped|hopping|bounce|bounces|bounced|bouncing",
           "pointing": r"points|pointed|pointing|points? (?:at|to)"},
    "fr": {"running": r"courent|court|courir|en courant|courai[st]|couraient|couru|courut",
           "sleeping": r"dort|dorment|dormir|dormai[st]|dormaient|endormie?s?|sommeil|rêve|rêvent"
                       r"|rêver|rêvait|dormant",
           "flying": r"volent|vole|voler|volait|en volant|s'envole|s'envolent|s'envolait|plane"
                     r"|planent|planer",
           "waving": r"fait signe|font signe|salue|saluent|saluer|saluait|saluant",
           "hugging": r"câlins?|câline|câlinent|câlinant|enlace|enlacent|enlacés?|serrent dans"
                      r"|serre dans",
           "sitting": r"assise?s?|s'assoit|s'assoient|s'asseoir|s'assied|assoie|assoient",
           "jumping": r"saute|sautes|sautent|sauter|sautait|sautant|sauté|bondit|bondissent"
                      r"|bondir",
           "pointing": r"montrent? du doigt|montrant du doigt|désigne|désignent"},
    "es": {"running": r"corre|corren|corriendo|carrera",
           "sleeping": r"duerme|duermen|dormid[ao]s?|durmiendo",
           "flying": r"vuela|vuelan|volando", "waving": r"saluda|saludan|saludando",
           "hugging": r"abraza|abrazan|abrazando|abrazos?|abrazad[ao]s?",
           "sitting": r"sentad[ao]s?|se sienta|se sientan",
           "jumping": r"salta|saltan|saltando|brinca|brincan|brincando",
           "pointing": r"señala|señalan|señalando|apunta|apuntan|apuntando"},
    "de": {"running": r"rennt|rennen|läuft|laufen",
           "sleeping": r"schläft|schlafen|schlafend|träumt",
           "flying": r"fliegt|fliegen|schwebt", "waving": r"winkt|winken",
           "hugging": r"umarm\w*|kuschel\w*", "sitting": r"sitzt|sitzen",
           "jumping": r"springt|springen|hüpft|hüpfen",
           "pointing": r"zeigt auf|zeigend|deutet"},
    "zh": {"running": r"奔跑|跑", "sleeping": r"睡觉|睡着|熟睡|睡", "flying": r"飞翔|飞",
           "waving": r"挥手|招手", "hugging": r"拥抱|抱", "sitting": r"坐",
           "jumping": r"跳", "pointing": r"指着|指向"},
}
"""Pose → the words that say a character does it, per language: whole word forms, each listed
('hug|hugs|hugged|hugging', never 'hug' and whatever follows, which is 'huge'). In a line, English
"waves" is also the verb when it follows who does it ("Mia waves"); elsewhere it is the sea's."""

MUTUAL = frozenset({"hugging"})
"""Poses two characters do together: the one a pose word names right after it does it too
('Dot hugs Mole': both hug, drawn side by side)."""

NEGATIONS: dict[str, str] = {
    "en": r"\b(?:not|never|cannot|nobody|no ?one|none|neither|nor|without|no longer"
          r"|dont|didnt|doesnt|cant|couldnt|wont|wouldnt|wasnt|werent|isnt|arent|hasnt"
          r"|havent|hadnt|shouldnt)\b|n['’]t\b",
    "fr": r"\b(?:ne|jamais|sans)\b|\bn['’]",
    "es": r"\b(?:no|nunca|jamás|nadie|ni|sin|tampoco)\b",
    "de": r"\b(?:nicht|nie|niemals|niemand|kein\w*|ohne)\b",
    "zh": r"不|没|别|未|无法",
}
"""The words before a pose word, in its clause, that say it is not done ('Hoot could not sleep',
'Hoot never flies', 'nobody hugs Mole', 'Le renard ne saute pas', 'El zorro no duerme')."""

NEGATIONS_AFTER: dict[str, str] = {
    "de": r"[^,.;:!?]*?(?P<no>\b(?:nicht|nie|niemals)\b)",
    "zh": r"(?P<no>不|没)",
}
"""Languages that may say 'not' after the verb, as a pattern matched from just after it:
German anywhere in the clause ('der Fuchs schläft nicht'), Chinese right after ('睡不着')."""

SUBJECT_PRONOUNS: dict[str, frozenset[str]] = {
    "en": frozenset("i you he she it we they".split()),
    "fr": frozenset("je tu il elle on nous vous ils elles".split()),
    "es": frozenset("yo tú él ella nosotros ellos ellas".split()),
    "de": frozenset("ich du er sie es wir ihr".split()),
    "zh": frozenset("我 你 他 她 它".split()),
}
"""Pronouns that name a subject: a negation before one does not reach past it."""

EVERYONE: dict[str, str] = {
    "en": r"\b(?:everyone|everybody|all of them|all of us)\b",
    "fr": r"\b(?:tout le monde)\b", "es": r"\b(?:todos|todas)\b", "de": r"\b(?:alle)\b",
    "zh": r"大家",
}
"""Words that give a pose to the whole cast ('everyone sleeps', 'tout le monde saute')."""

DETERMINERS: dict[str, frozenset[str]] = {
    "en": frozenset("a an the this that these those my your his her its our their some any "
                    "every each another no one two three".split()),
}
"""Words that begin a noun phrase: a participle right after one, or after one and one more word,
and followed by a noun, describes that noun ('a pointed hat', 'a quiet sitting room')."""

NOT_NOUNS: dict[str, frozenset[str]] = {
    "en": frozenset("about above across after again against ahead all alone along amid "
                    "among and are around as at atop away back before behind below beneath "
                    "beside between beyond but by down during far fast for from had hard "
                    "has have her here high him home in inside into is it late like long "
                    "low me near nearby next now of off on once onto or out outside over "
                    "overhead past round so still them then there through to together too "
                    "toward towards under until up upon upward upwards us was well were "
                    "while with within without you".split()),
}
"""Words that follow a verb and are no noun: 'the fox sleeping under a tree' is a verb, so
'sleeping' followed by one of these is never a noun compound's first word."""

_IS = frozenset("he she it that what there here who where let".split())
_WORD = re.compile(r"[^\W\d_][\w'’]*")


def negated(before: str, after: str, language: str, subject: Callable[[str], bool]) -> bool:
    """Whether the clause around a pose word says it is not done: a negation before it (or, in
    NEGATIONS_AFTER's languages, after it) with no subject named between them ('Hoot did not run
    or jump': neither; 'Dot did not run and Pip jumped', 'Without a word Hoot flew': Pip
    jumps, Hoot flies)."""
    pronouns = SUBJECT_PRONOUNS.get(language, SUBJECT_PRONOUNS["en"])

    def reaches(span: str) -> bool:
        words = list(span) if language == "zh" else _WORD.findall(span)
        return not any(w in pronouns for w in words) and not subject(span)

    for language_ in dict.fromkeys((language, "en")):
        found = list(re.finditer(NEGATIONS[language_], before))
        if found and reaches(before[found[-1].end():]):
            return True
    later = NEGATIONS_AFTER.get(language)
    hit = re.match(later, after) if later else None
    return bool(hit and reaches(after[:hit.start("no")]))


def described(before: str, form: str, after: str, language: str,
              subject: Callable[[str], bool]) -> str | None:
    """The noun a participle pose word describes ('a sleeping bag' → 'bag', 'the sleeping fox'
    → 'fox'), or None where it is a verb ('Hoot is sleeping', 'the fox sleeping under a tree')."""
    determiners, not_nouns = DETERMINERS.get(language), NOT_NOUNS.get(language)
    if determiners is None or not_nouns is None or not form.endswith(("ing", "ed")):
        return None
    following = re.match(r"\s+([^\W\d_][\w'’]*)", after)
    if not following or following.group(1) in not_nouns or following.group(1).endswith("ly"):
        return None
    previous = _WORD.findall(before)[-2:]

    def opens(word: str) -> bool:  # 'a', 'the', 'his', "Mia's"; not "it's", "she's"
        return word in determiners or word.endswith(("'s", "’s")) and word[:-2] not in _IS

    if previous and opens(previous[-1]) or len(previous) == 2 and opens(previous[0]) \
            and previous[1] not in not_nouns and not subject(previous[1]):
        return following.group(1)
    return None
