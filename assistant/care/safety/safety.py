"""The emergency safety net: phrases that mean someone needs help now, whatever the classifier thinks.

It runs on every message (as a Rasa NLU component, see ``assistant.nlu.safety_net``) so a fall or
chest pain is never lost inside a meal order or a health question. Patterns are deliberately broad:
a false alarm costs a coordinator a minute; a missed emergency can cost a life.

How a message is read:

1. :func:`normalise`: lower case, accents and emoji dropped, curly quotes and apostrophes removed
   ("can't" -> "cant"), punctuation to spaces, letters repeated three times or more squeezed to two.
2. Innocent phrases are blanked out ("fell asleep", "stroke of luck", "chest of drawers", "gas bill"
   never reaches the patterns), see :data:`INNOCENT`.
3. Each kind's patterns are searched; a match followed closely by a time long past ("she had a fall
   three years ago") is history, and a fall followed by "but I'm fine" is over: neither is an emergency.
4. If nothing matched and the message had stretched letters ("heeelp im fallllen"), it is read once
   more with every doubled letter made single; then, if it has misspelled emergency words ("smoak",
   "fiyer"), once more with them spelled as usual (:mod:`assistant.care.safety.fuzzy_words`).

Measured on the phrase sets in ``tests/nlu/`` (see ``tests/nlu/test_safety_net.py``) and timed by
``python -m benchmarks.safety``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final, Iterator, Optional

from assistant.care.safety.fuzzy_words import correct

MAX_CHARS: Final = 5000
"""Only the start of a message is read (Telegram messages are at most 4096 characters)."""

# --- building blocks (text is normalised: lower case, no apostrophes, single spaces) ---------------

_RELATIVE = (
    r"(?:mum|mom|mummy|mother|dad|daddy|father|husband|hubby|wife|partner|son|daughter|friend|neighbour|"
    r"neighbor|gran|grandma|granny|grandad|grandpa|grandmother|grandfather|nan|nana|nanna|aunt|auntie|aunty|"
    r"uncle|brother|sister|carer|mother in law|father in law|lady next door|man next door|old lady|old man|"
    r"gentleman|lady|client|patient|resident)"
)
_WHO = (
    rf"(?:i|ive|im|id|we|weve|she|he|shes|hes|they|theyve|theyre|someone|somebody|someones|somebodys|"
    rf"{_RELATIVE}s?|(?:my|our|the|his|her|their) {_RELATIVE}s?)"
)
_AUX = (
    r"(?:(?:has|have|had|hav|has just|have just|had just|just|s|is|was|think|thinks|think she|think he|"
    r"might have|may have|must have|has had|have had|had had|had a|had just) )*"
)
_CANT = r"(?:cant|cannot|can not|carnt|cnt|couldnt|could not|unable to|not able to)"
_NOT = r"(?:wont|will not|doesnt|does not|isnt|is not|not|cant|cannot|can not|hasnt|has not)"
_BODY = r"(?:hand|arm|leg|finger|thumb|head|wrist|foot|face|neck|knee|ankle|toe|lip|nose|eye|back)"
_CHEST = r"(?:chest|chset|chets|chst|chesst)"
_PAIN = (
    r"(?:pain|pains|pian|pians|paine|pane|payn|hurt|hurts|hurting|ache|aches|aching|tight|tightness|"
    r"pressure|heavy|crushing|burning)"
)
_BREATHE = r"(?:breathe?|breath|brethe?|breeth|breth|breahte|breate|breathing|brething|breating)"
_BLEED = r"(?:bleeding|bleding|bleedin|bleed|bleeds|bled)"
_PILLS = (
    r"(?:pills|tablets|tabs|painkillers|paracetamol|sleeping pills|sleeping tablets|medicine|medication|meds|"
    r"capsules|insulin)"
)
_WITH_PERSON = (
    r"(?:someone|somebody|someones|somebodys|some one|somone|sombody|sumone|sumbody|a man|a woman|a stranger|"
    r"strangers|men|"
    r"people|a person|some men|two men|a gang|youths|an intruder|intruders|a burglar|burglars)"
)
_PLACE = r"(?:house|home|flat|bedroom|kitchen|hall|hallway|bungalow|loft|living room|lounge|bathroom)"


def _compile(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in parts))


def _near(a: str, b: str, words: int = 3) -> str:
    """A pattern for ``a`` and ``b`` at most ``words`` words apart, in either order."""
    gap = rf"(?: \w+){{0,{words}}} "
    return rf"\b{a}\b{gap}\b{b}\b|\b{b}\b{gap}\b{a}\b"


SIGNS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    ("breathing", _compile(
        rf"\b{_CANT} (?:seem to |really |properly )?(?:get (?:my |his |her |any )?|catch (?:my |his |her )?)?"
        rf"(?:{_BREATHE}|air)\b(?! a word)",
        r"\b(?:struggling|struggles|struggle|trouble|difficulty|difficulties|problems?|hard|fighting) "
        r"(?:to |with |for |in )?(?:breathe|breath|breathing)\b",
        r"\b(?:not|isnt|stopped|stop|hardly|barely|cant stop) breathing\b",
        rf"\b(?:can|could) (?:hardly|barely) {_BREATHE}\b",
        r"\bshort(?:ness)? of breath\b|\bout of breath and (?:cant|can not|cannot|dizzy)",
        r"\bbreathing (?:is |s |has got |has gone |gone |getting )?(?:really |very |so |much )?(?:bad|worse|terrible|"
        r"awful|laboured|shallow|noisy|rattly|rattling|wheezy|fast|weird|strange)\b",
        r"\binhaler (?:isnt|is not|not|wont|doesnt|does not|aint) (?:working|helping|doing anything)\b",
        r"\bwheez(?:ing|y|es)? (?:really |very |so )?(?:badly|bad|terribly|a lot)\b",
        rf"\b{_WHO} {_AUX}(?:gone |going |turned |turning |looks |look )?(?:very |really |all )?(?:grey|gray|blue)\b",
        r"\bgasping\b|\b(?:lips|face) (?:are |is |have |has |have gone |has gone |gone |turning |going |look |looks )?"
        r"(?:blue|grey|gray)\b|\b(?:blue|grey|gray) in the face\b|\b(?:turned|turning|gone|going) (?:blue|grey|gray)\b",
    )),
    ("choking", _compile(
        r"\bcho(?:c)?king\b|\bchoked\b|\bchokes\b",
        r"\b(?:stuck|lodged) in (?:my|his|her|their) (?:throat|windpipe)\b",
    )),
    ("unresponsive", _compile(
        r"\bun ?con(?:s|c|sc)?(?:i|ie)?ous\b|\bunresponsive\b",
        r"\b(?:collapsed|colapsed|collasped|collaped|collapse|collapsing)\b",
        rf"\b{_NOT} wak(?:e|ing) (?:him |her |them |my \w+ |(?!me )\w+ )?up\b"
        r"(?! (?:early|in the morning|on time|before|at \d|in time|for))",
        rf"\b{_WHO} {_AUX}(?:not|isnt|wont|stopped|hasnt|isnt|not been) "
        r"(?:responding|respond|moving|move|answering me|answering)\b",
        r"\b(?:passed|passing|pass|blacked|blacking|black|keeled|conked) out\b|\bfainted\b|\bfainting\b",
        r"\bno pulse\b|\bheart (?:has )?stopped\b",
        r"\b(?:cant|cannot|can not|wont|couldnt) rouse\b|\bunrousable\b|\bkeel(?:ed|s)? over\b",
        r"\b(?:funny|strange|bad|dizzy|queer) turn\b",
        r"\b(?:gone|going|is|went|become|looks) (?:very |all |really |so )?(?:pale and |grey and |white and )?"
        r"(?:floppy|limp|lifeless|clammy)\b",
    )),
    ("chest pain", _compile(
        rf"\b{_CHEST} (?:is |feels |feel |has gone |gone |really |very |so |is really |is very |is so |"
        rf"suddenly |all |getting )*{_PAIN}\b",
        rf"\b(?:pain|pains|pian|ache|tightness|pressure|crushing|heaviness|tight) (?:in|across|on|round|around) "
        rf"(?:my|his|her|the) {_CHEST}",
        rf"\bclutching (?:at )?(?:my|his|her|their) {_CHEST}",
        _near(_CHEST, r"(?:pain|pains|pian|tight|tightness|band|pressure|crushing|heavy|heaviness|hurts?|hurting|"
              r"aches?|aching|squeezing|squeezed|burning)"),
        r"\bheart attack\b|\bhart attack\b|\bheart atack\b|\bcardiac arrest\b",
        r"\bheart (?:is |s )?(?:racing|pounding|hammering|fluttering|beating (?:very |really |so )?(?:fast|hard))\b",
        r"\bheart (?:is |s )?(?:doing|going) (?:something )?(?:weird|funny|strange|crazy|mad)\b",
        r"\bpain (?:down|in|along|going down) (?:my|his|her) left arm\b|\bleft arm (?:is |feels |has gone )?numb\b",
    )),
    ("stroke", _compile(
        r"\b(?:stroke|strok|stoke)\b(?! on trent)",
        r"\b(?:face|mouth|smile|lip) (?:is |has |looks |has gone |gone |is looking |suddenly |looks |all )*"
        r"(?:drooping|droops|droopy|"
        r"dropped|fallen|lopsided|twisted|numb|sagging|strange|funny|weird)",
        r"\b(?:drooping|droopy|lopsided|twisted) (?:face|mouth|smile)\b|\bsmile is (?:lopsided|crooked|wonky)",
        r"\bslur+(?:ed|ing|s|ring|red|ry|rie)?\b",
        r"\b(?:speech|words|talking|voice) (?:is |are |has |have |sounds? |gone |has gone |suddenly |sound |"
        r"all |really |very )*(?:funny|strange|weird|garbled|not right|slurred|jumbled|muddled)",
        rf"\b{_CANT} (?:lift|raise|move|feel|use) (?:my|his|her) (?:left |right )?(?:arm|leg|hand|face|side)",
        r"\b(?:one|left|right) side of (?:my|his|her|the) (?:body|face)\b",
        r"\bsudden(?:ly)? (?:weak|weakness|numb|numbness|(?:cant|cannot) (?:speak|talk|see|move|understand))",
        rf"\b{_CANT} get (?:my|his|her|the|any) words? out\b",
        rf"\b{_CANT} (?:speak|talk)\b(?! (?:to|english|with|on|about|right|now|at|today|long|for|much|loudly|up))",
        r"\b(?:talking|speaking|saying) (?:gibberish|nonsense|strangely|oddly)\b|\bgibberish\b",
        r"\barm (?:is |has gone |gone |feels |went )(?:weak|numb|dead|floppy)\b",
        r"\b(?:worst|worse) (?:headache|head ache|pain in (?:my|his|her) head)(?: \w+){0,2} (?:ever|of (?:my|his|her) "
        r"life|ive ever had|hes ever had|shes ever had)\b|\b(?:thunderclap|blinding) headache\b",
        r"\bsudden(?:ly)? (?:a |an )?(?:severe|terrible|awful|excruciating|violent|splitting) (?:headache|head ache)\b",
    )),
    ("bleeding", _compile(
        rf"\b{_BLEED} (?:really |very |so |quite |is |it )?(?:heavily|heavy|a lot|badly|bad|everywhere|loads|lots|"
        rf"profusely|like mad|non stop|all over)",
        rf"\b{_CANT} stop (?:the |it |this )?(?:{_BLEED}|blood)\b",
        rf"\b{_BLEED}(?: \w+){{0,4}} (?:a lot|heavily|badly|loads|everywhere|profusely|non stop)\b",
        r"\b(?:lot|lots|loads|so much|pool|pools) of blood\b",
        rf"\b(?:wont|will not|doesnt|does not|isnt|hasnt|has not) stop(?:ped)? {_BLEED}\b",
        rf"\b{_BLEED} (?:and |that |which )?(?:it )?(?:wont|will not|doesnt|does not|isnt|hasnt|cant) stop",
        r"\bblood (?:is )?(?:everywhere|pouring|gushing|spurting|pumping|all over)\b",
        r"\b(?:lots|loads|a lot|so much|pools?) of blood\b|\blosing (?:a lot of |lots of |so much )?blood\b",
        r"\bpouring (?:with |out )?blood\b",
        rf"\b(?:is|s|are|re|am|m|shes|hes|im|theyre|started|keeps) {_BLEED} (?:from|out of) (?:the|his|her|my|their) (?:head|ear|ears|mouth|"
        r"eye|neck|chest|stomach|tummy|back passage)\b",
        r"\b(?:coughing|cough|coughed|vomiting|vomit|vomited|throwing|threw|being sick|was sick) (?:up )?blood\b",
        r"\b(?:been sick|being sick|was sick|vomited|vomiting|throwing up|threw up|sick)\b(?: \w+){0,6} blood "
        r"(?:in|on) "
        r"(?:it|the sick|my sick|his sick|her sick|the vomit)\b",
        rf"\bcut (?:my|his|her|their) {_BODY}s? (?:badly|deep|deeply|open|to the bone|really badly)",
        r"\b(?:deep|bad|nasty|big) (?:cut|gash|wound)\b|\bgash\b",
    )),
    ("allergy", _compile(
        r"\banaphyla|\bepi ?pen\b",
        r"\b(?:severe|serious|bad|major|big) allergic reaction|\bhaving an? (?:\w+ )?allergic reaction\b",
        r"\b(?:lips?|tongue|throat|face|mouth) (?:is |are |has |have |have gone |is going |are going |going |"
        r"all |started )*(?:swelling|swollen|swelled|puffing up|puffed up|closing|closing up)",
        r"\bswollen (?:lips|tongue|throat)\b|\bthroat (?:is |feels )?(?:closing|tightening)\b",
    )),
    ("seizure", _compile(
        r"\bseizure|\bhaving (?:a )?fit\b|\b(?:is |s |hes |shes )fitting\b|\bconvuls",
        r"\b(?:having|had|gone into|going into) (?:an? )?(?:epileptic |\w+ )?(?:fit|fits)\b(?! of (?:laughter|giggles|pique))",
        r"\b(?:shaking|jerking|twitching|thrashing) (?:all over |about )?(?:uncontrollably|violently|and (?:wont|will not|"
        r"cant|cannot|can not) stop|and (?:isnt|is not|not) responding|and foaming)\b",
        r"\b(?:arms|legs|body|whole body) (?:is |are |keeps |keep |wont stop |started )?(?:jerking|twitching|shaking "
        r"violently|thrashing)\b|\bfoaming at the mouth\b",
    )),
    ("self-harm", _compile(
        r"\bkill (?:myself|my self|meself|himself|herself)\b|\bkilling myself\b",
        r"\bend(?:ing)? (?:my|his|her) (?:own )?life\b|\bend(?:ing)? it all\b|\bend it (?:tonight|now|today)\b"
        r"|\b(?:going to|gonna|want to) end it\b",
        r"\bsuicid",
        r"\b(?:dont|do not|no longer) want to (?:live|be alive|go on|carry on)(?: anymore| any more| any longer)?\b"
        r"(?! (?:in|with|at|near|there|alone|on|somewhere|like|abroad|by|next))",
        r"\b(?:dont|do not|no longer) want to (?:be here|wake up)(?: anymore| any more| any longer| again| tomorrow)",
        r"\b(?:want to|wanna|wana|wish i could|ready to|just want to|i want to) die\b|\bwish i (?:was|were) dead\b"
        r"|\bbetter off (?:dead|without me)\b",
        r"\bself ?harm|\b(?:want|going|gonna|tempted|thinking|thought|think|urge) (?:about |of )?(?:to )?"
        r"(?:hurt|harm|hurting|harming|cut|cutting) myself\b|\b(?:been |keep )?cutting myself\b"
        r"|\bharm(?:ing)? myself\b",
        r"\btake (?:my|his|her) (?:own )?life\b",
        r"\b(?:cut|slit|slashed|slash) (?:my|his|her) wrists?\b",
        r"\b(?:nobody|no one|noone) (?:would|will|is going to) (?:miss|care about|notice) me\b"
        r"|\bif i (?:was|were) gone\b",
        r"\b(?:cant|cannot|can not) (?:go on|carry on|cope|take it) (?:anymore|any more|any longer|like this)\b",
        r"\b(?:had enough|sick|tired) of (?:life|living|being alive|it all)\b",
        r"\bjump(?:ing)? (?:off|from|in front of) (?:a|the|my) (?:bridge|building|cliff|train|roof|balcony|car park|"
        r"window)\b",
        r"\b(?:going to|gonna|want to|will|plan to|planning to|thinking (?:about|of)) (?:end|ending) "
        r"(?:things|everything|my life|it)\b",
        r"\bno (?:point|reason) (?:in )?(?:going on|living|carrying on|being alive|being here)\b",
        r"\b(?:whats|what is|dont see|cant see|do not see) the point (?:of |in )?(?:going on|living|carrying on|"
        r"being alive|being here|waking up|anything any ?more)\b",
        r"(?:\b(?:go to sleep|fall asleep|sleep)|~) +and (?:never|not) wake up\b|\bnot (?:wake|waking) up (?:tomorrow|again)\b",
        r"\b(?:saving|saved|stockpiling|hoarding|collecting) (?:up )?(?:my |his |her )?(?:pills|tablets|meds|"
        r"medication|painkillers)\b",
        r"\beveryone (?:would be|will be|is) better off without me\b|\b(?:a|such a) burden (?:to|on) everyone\b",
        r"\bput an end to (?:it|it all|everything|myself|my life)\b",
        rf"\b(?:take|taking|swallow|swallowing) all (?:my|of my|his|her|the|of the) {_PILLS}\b",
    )),
    ("poisoning", _compile(
        rf"\b(?:took|taken|take|swallowed|had|eaten|ate|taking) (?:far |way |much )?too (?:many|much) (?:of )?"
        rf"(?:my |his |her |the )?{_PILLS}",
        r"\boverdos",
        rf"\b(?:a load|loads|lots|a lot|a handful|handfuls|a bottle|a box|a packet|the whole (?:box|packet|bottle)) "
        rf"of (?:my |his |her |the |their )?{_PILLS}\b|\b{_PILLS} on purpose\b",
        r"\b(?:a |the )?whole (?:packet|box|bottle|strip|tub|pack) of\b",
        _near(r"(?:swallowed|swallowing|swallow)", r"(?:battery|batteries|magnets?|pins?|needles?|bleach|blade|razor)"),
        r"\b(?:swallowed|drunk|drank|drinking|eaten|ate|swallowing) (?:some |a bottle of |the )?(?:bleach|cleaning "
        r"(?:fluid|liquid|products?|stuff)|poison|weed ?killer|antifreeze|dishwasher tablets?|washing (?:up )?liquid|"
        r"detergent|white spirit|rat poison)",
        r"\bpoisoned\b",
        rf"\b(?:took|taken|swallowed|had|given|gave (?:him|her|me|myself)) (?:\w+ ){{0,3}}{_PILLS} (?:twice|two times|"
        r"by mistake|by accident|again by mistake)\b",
        rf"\b(?:took|taken|swallowed|had|given|gave (?:him|her|me|myself)) (?:the |some |a few |two of |all )?(?:wrong|"
        rf"somebody elses|someone elses|(?:my |his |her )?(?:husbands|wifes|sisters|brothers|mums|dads|partners|"
        rf"neighbours|friends))(?: \w+)? {_PILLS}\b|\b{_PILLS} instead of (?:hers|his|mine|theirs|her own|his own)\b",
        r"\b(?:took|taken|had|given|injected|gave (?:him|her|myself)) (?:a |my |his |her )?(?:double|two lots of|"
        r"an extra|twice (?:my|his|her|the)) (?:\w+ )?(?:dose|doses|insulin|tablets|pills|meds|medication|injection)\b",
        r"\b(?:swallowed|drunk|drank|eaten|ate) (?:some |a bit of |the )?(?:\w+ )?(?:that was|which was) "
        r"(?:off|poisonous|toxic)\b|\bpoisonous (?:berries|mushrooms|plant)\b",
        r"\bswallowed (?:a |an |some |two |the |my |his |her )?(?:button )?(?:battery|batteries|magnets?|glass|pins?|"
        r"needles?|razor|blade|bleach)\b",
    )),
    ("fall", _compile(
        rf"\b{_WHO} {_AUX}(?:had an? (?:bad |nasty |big |serious |little |horrible )?(?:fall|fal)|"
        r"(?:taken|took) a (?:bad |nasty )?(?:tumble|fall)|fal{1,2}[aei]?n|fel{1,2}|slipped|slipt|tripped|"
        r"fall(?:en)? over)\b",
        r"\bfal{1,2}[aei]?n (?:over|down|and|out of bed|off|in the)\b",
        r"\bfel{1,2} (?:down|over|out of bed|off (?:a|the|my|his|her) (?:ladder|chair|bed|stool|steps|wall)|"
        r"in the (?:bath|shower|garden|kitchen|bathroom|street|toilet|hall|hallway|bedroom|road|night))\b",
        rf"\b{_CANT} get (?:up|back up|off the floor|up off the floor|myself up|him up|her up)\b"
        r"(?! (?:early|the (?:stairs|ladder|steps|hill)|stairs|in the morning|in time|before|at \d|for|to go|"
        r"that early|so early|on time))",
        r"\b(?:lying|lay|laying|laid|stuck|been|im|is|shes|hes|still) (?:here |there )?on the "
        r"(?:bathroom |kitchen |bedroom |hall |hallway |lounge |living room |landing |toilet |shower |bath )?"
        r"(?:floor|ground)\b(?! floor)",
        r"\blying here since\b|\bon the (?:floor|ground) (?:all night|since|for hours)\b|\bbeen (?:here|there) "
        r"(?:for )?(?:hours|all night|since)\b",
        r"\bhurts? too much to move\b",
        r"\b(?:dropped|collapsed|slumped|sank|slid|slipped) (?:down )?(?:to|on|onto) the (?:floor|ground)\b",
        rf"\b{_WHO} {_AUX}(?:went|gone|go|going) down (?:hard|heavily|on the|in the)\b",
        r"\bfel{1,2} (?:on|over) (?:my|the) way\b|\bfel{1,2} on the (?:stairs|ice|pavement|steps|path|patio|floor)\b",
        r"\b(?:hit|banged|bashed|cracked|knocked|split) (?:my|his|her) head\b",
        rf"\b{_CANT} (?:stand|walk) (?:up|properly|on (?:my|his|her) (?:own|feet|legs))\b|\b{_CANT} stand$",
        rf"\b{_CANT} move\b(?! (?:the|it|this|that|house|home|furniture|things|stuff|in|to|out|away|flat|on|my car|"
        r"my booking|my appointment|the sofa|the bed|a|an|any|around|about|much|very|fast|quickly|it))",
        r"\b(?:broken|broke|cracked|fractured) (?:my|his|her) (?:hip|leg|arm|wrist|ankle|pelvis|neck|back)\b",
        r"\b(?:hurt|injured) (?:myself|himself|herself) (?:badly|really badly|very badly|bad)\b",
        rf"\b{_CANT} lift (?:him|her) (?:up|off the floor)\b",
    )),
    ("fire", _compile(
        r"\bon fire\b|\b(?:theres|there is|there s|we have|theres been) (?:a )?fire\b",
        r"\b(?:house|kitchen|flat|room|bedroom|chip pan|pan|oven|cooker|toaster|chimney|electrical) fire\b",
        r"\bfire in (?:the|my|our|his|her)\b|\b(?:caught|catching|catch) (?:on )?fire\b|\bin flames\b",
        r"\bflames (?:coming|everywhere|are|in)\b|\bsmoke (?:everywhere|coming|pouring|is coming|filling)\b",
        r"\bfull of smoke\b|\bsmell of burning\b|\b(?:burning|smoking) smell\b",
        _near(r"(?:smell|smells|smelt|smelled|smelling|smel)", r"(?:smoke|burning)", 2),
        r"\b(?:cant|cannot|can not|couldnt) see (?:for|through|because of) (?:the )?smoke\b|\bthick smoke\b",
        r"\bsmoke (?:alarm|detector) (?:is |s )?(?:screaming|going off|sounding|ringing) and\b",
        r"\b(?:curtains|sofa|bed|chair|carpet|roof|wires|plug|socket|cooker|oven|pan|toaster|heater) "
        r"(?:is |are )?(?:burning|smoking|in flames)\b",
        r"\bsparks? (?:coming |flying )?(?:from|out of) |\b(?:electrics|socket|plug|wires?|fuse box) "
        r"(?:and |are |is )?spark|\belectrics and sparks\b|\belectric shock\b",
        r"^(?:help )*fire(?: fire| help)*$",
    )),
    ("gas", _compile(
        r"\bsmel+(?:s|ing|t|led)? (?:of |a |some )?gas\b|\bgas (?:leak|leaking|smell|escape|is leaking)",
        r"\bleaking gas\b|\bwhiff of gas\b",
        _near(r"(?:smell|smells|smelt|smelled|smelling|smel|stink|stinks|stinking|reek|reeks|reeking|whiff|pong|pongs)",
              r"gas"),
        r"\b(?:carbon monoxide|co) (?:alarm|detector)(?: \w+){0,4} (?:going off|sounding|went off|gone off|"
        r"beeping|ringing|screaming)",
        r"\bcarbon monoxide (?:leak|poisoning)\b",
    )),
    ("intruder", _compile(
        r"\b(?:burglar|burglars|intruder|intruders)\b|\bburgled\b|\bbeing robbed\b",
        r"\b(?:broken|broke|brok|breaking|braking|brake|broek) (?:in|into)\b",
        rf"\b{_WITH_PERSON} (?:i dont know |we dont know |ive never seen |i dont recognise )?"
        r"(?:is |are |s |has |have |just |got |keeps |keep |trying to )*"
        r"(?:trying to (?:get|break|force|climb) (?:in|into|through (?:my|the|our) (?:window|door))|getting in|"
        rf"in (?:my|the|our) {_PLACE}|inside (?:my|the|our)|"
        r"(?:at|outside|looking in) my (?:window|windows|bedroom window)|forcing (?:the|my) (?:door|window)|"
        r"breaking (?:down|in)|banging on (?:my|the) (?:door|window)|kicking (?:my|the) door)",
        r"\btrying (?:the|my|all the|all my) (?:door|doors|door handles?|handles?|windows?)\b",
        r"\b(?:trying to force|forcing|forced) (?:open )?(?:the|my|our) (?:back |front |bedroom )?(?:door|window|lock)",
        r"\b(?:hear|heard|can hear) (?:someone|somebody|footsteps|noises|a noise|people|voices|glass breaking|"
        r"breaking glass|them|him)(?: moving| walking| creeping)? "
        r"(?:downstairs|upstairs|on the stairs|at the back door|"
        r"in (?:the|my) (?:house|kitchen|hall|loft|flat|bedroom))",
        r"\b(?:pushed|forced|barged) (?:his|her|their|its) way (?:in|into)\b",
        r"\bclimbing (?:in|into|through|over) (?:my|the|our) (?:window|windows|back door|house|flat|balcony|fence)\b",
        r"\b(?:break|breaking|kick|kicking|smash|smashing|bash|bashing) (?:down|in) (?:my|the|our) (?:door|window|"
        r"front door|back door)\b|\btrying to break (?:down|in)\b",
        r"\b(?:mugged|assaulted|stabbed)\b|\b(?:he|she|they|someone|somebody|a man|a woman) (?:has |just )?"
        r"(?:hit|punched|kicked|attacked|stabbed|hurt) (?:me|us)\b",
        r"\bsmashed (?:my|the|a|our) (?:window|door|back door|front door)\b",
        r"\b(?:will|going to|gonna|gunna|threatening to|threatened to|says he will|said he will|theyll|hell|shell|"
        r"they will|he will|she will) (?:hurt|kill|attack|hit|stab|beat) (?:me|us)\b",
        r"\bthreatening (?:me|us)\b|\bbeing attacked\b|\battacking (?:me|us)\b|\b(?:has|got|with) a (?:knife|gun)\b",
        r"\b(?:is|are|s|keeps|keep|has been|have been|been) (?:hitting|beating|punching|kicking|attacking|pushing|"
        r"shoving|slapping|grabbing|choking|strangling) (?:me|us)\b",
        r"\b(?:locked|locking|locks) me (?:in|up|out)\b(?! of (?:my|the) (?:account|email|phone|computer|app))",
        r"\b(?:wont|will not|doesnt|does not) let me (?:leave|out|go out|eat|have (?:any )?food|call anyone|phone anyone)\b",
    )),
    ("hypo", _compile(
        r"\bhypo\b|\bhypoglyc",
        r"\bsugars? (?:is |s |are |level is |levels are |has gone |have gone |gone |dropped |dropping |really |"
        r"very )*(?:very |really |dangerously |too |so )(?:low)\b|\bsugar (?:has )?(?:crashed|dropped)\b",
        r"\b(?:blood sugar|sugar|sugars|glucose|bm|sugar level|sugar reading)s? (?:meter |monitor |machine |reading |"
        r"level )?(?:is |s |was |are |reading |reads |"
        r"says |at |down to |dropped to |only |showing )+[0-2](?: \d)?\b(?! (?:spoons|teaspoons|sugars|lumps|cubes))",
    )),
    ("burn", _compile(
        r"\b(?:burnt|burned|burn|scalded|scald) (?:myself|himself|herself|my \w+|his \w+|her \w+) "
        r"(?:badly|really badly|very badly|bad)",
        r"\bbad(?:ly)? (?:burn|burnt|burned|scald|scalded)\b|\bskin (?:is )?(?:coming off|peeling off|blistering)\b",
    )),
    ("call for help", _compile(
        r"\b(?:call|get|send|ring|phone|need|want|fetch) (?:me |us |for )?(?:an |a |the )?"
        r"(?:ambulance|ambulence|amblance|ambulanse|ambulnce|ambulace|paramedics?)\b",
        r"\b(?:call|ring|dial|phone|get) (?:the )?(?:999|112|911)\b",
        r"\b(?:call|ring|phone|get) (?:the )?(?:police|fire brigade|fire service)"
        r"(?: now| quick| quickly| please| immediately| urgently|$)",
        r"\bemerg[ae]n(?:c|s)y\b|\bemergncy\b|\bemergeny\b",
        r"\bhelp (?:me )?help\b|\bhelp (?:me |us )?(?:please |pls |plz )?(?:now|quick|quickly|urgently|asap|fast|"
        r"im dying)\b",
        r"^(?=\w*(?:hh|ee|ll|pp))h+e+l+p+(?: me)?$",
        r"(?:^|please |oh god |quick )(?:someone|somebody|anybody|anyone) (?:please )?help\b",
        r"\bneed (?:urgent help|help (?:now|urgently|quick|quickly|immediately|fast|asap))\b",
        r"\bget (?:me )?help (?:now|quick|quickly|urgently|fast|asap)\b|\bhelp im dying\b",
        r"\b(?:i think |think )?im dying\b(?! (?:my|the|her|his|a|some|for|to|of|laughing|inside|with|hair))",
    )),
)
"""Each kind of emergency and how people write it, most urgent first (text normalised, no apostrophes)."""

WEAK_SIGNS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    ("hypo", _compile(
        _near(r"(?:diabetic|diabetes|diabetics|sugar|insulin)", r"(?:shaky|shaking|trembling|sweaty|sweating|clammy|"
              r"confused|drowsy|muddled|woozy|wobbly)", 8),
    )),
    ("confusion", _compile(
        r"\b(?:suddenly|all of a sudden|since this morning|out of nowhere|overnight) (?:very |really |so |completely )?"
        r"(?:confused|muddled|disoriented|disorientated|not making sense|talking nonsense|not herself|not himself)\b",
        r"\b(?:doesnt|does not|didnt|cant|cannot|can not) (?:seem to )?(?:know|recognise|recognize) (?:me|us|where (?:she|"
        r"he|they) (?:is|are)|who (?:i|we) (?:am|are)|her own|his own)\b",
        r"\b(?:dont|do not) know where i am\b|\b(?:im|i am|i got|ive got|were|we are) lost\b(?! (?:with|on|in|for|about|"
        r"without|as to|my|the|this))",
        r"\b(?:wandered off|gone missing|went missing|has not come back|hasnt come back|not come home|hasnt come home|"
        r"hasnt returned|isnt back yet)\b",
    )),
    ("carbon monoxide", _compile(
        _near(r"(?:headache|headaches|dizzy|sick|drowsy|sleepy)", r"(?:boiler|gas fire|heater|fumes|stove)", 6),
    )),
    ("self-harm", _compile(
        r"\b(?:be|being) with (?:my )?(?:late |dear )?(?:husband|wife|\w+) (?:again|in heaven|soon)\b",
        r"\b(?:wont|will not|might not|may not) be (?:around|here) (?:much longer|for long|tomorrow|next week)\b",
        r"\b(?:saying|say|said) (?:my )?goodbyes?\b(?! to (?:the|a|my) (?:cleaner|carer|driver))",
        r"\b(?:tired|weary) of (?:everything|it all|going on|carrying on)\b|\bcant do this any ?more\b",
    )),
    ("abuse", _compile(
        r"\b(?:scared|afraid|frightened|terrified) of (?:my |him|her|them|the )(?:\w+ ){0,2}?(?:he|she|they) "
        r"(?:hits|pushes|shouts|threatens|hurts|takes|grabs|hit|pushed|shouted|threatened|hurt|took|grabbed)\b",
        r"\b(?:takes|took|taking|keeps taking) (?:all )?my (?:money|pension|bank card|card|pin)\b(?: \w+){0,3} "
        r"(?:and|won|wont|without)\b",
        r"\b(?:shouting|screaming|yelling) at me\b(?: \w+){0,4} (?:scared|frightened|afraid|threat)",
    )),
)
"""Words that may mean an emergency and may not ("diabetic and shaky", "mum hasn't come home"):
never the full alarm by themselves, always the question (:mod:`assistant.care.safety.alarm_tiers`)."""


def possible_sign(text: str) -> Optional[str]:
    """The kind of a *possible* emergency the text shows (a weak sign), or None."""
    for reading in _readings(text):
        for kind, pattern in WEAK_SIGNS:
            if pattern.search(reading):
                return kind
    return None


INNOCENT: Final = _compile(
    # falls that are not falls
    r"\b(?:fell|fall|falls|falling|fallen|fel) (?:fast |sound )?asleep\b",
    r"\b(?:fell|fallen|falling|fall) (?:out with|out over|in love|for (?:it|a|the|that|his|her)|behind|through|"
    r"apart|ill|"
    r"short|off the wagon|off my diet|pregnant)\b",
    r"\b(?:nearly|almost) (?:fell|fallen|had a fall|slipped|tripped)\b",
    r"\bslipped (?:my|his|her|your|their) mind\b|\bslipped (?:out|away|through)\b",
    r"\btripped (?:the|a) (?:switch|fuse|breaker|electrics)\b|\b(?:fuse|electrics|switch) tripped\b",
    r"\b(?:leaves|picture|pictures|shelf|shelves|fence|tree|branch|branches|tiles?|slates?|plaster|pot|vase|glass|cup|"
    r"plate|books?|clock|mirror|lamp|post|pole|sign|gutter|guttering|blinds?|curtains?|rail|gate|bins?|prices?|"
    r"pension|rates?|temperatures?|snow|rain|sales|value|shares|stocks?|numbers?|letters?|parcel|hat|glasses|"
    r"remote|phone|bag|bottle|ornament|frame|handle|knob|light|bulb) (?:has |have |had |just |has just |"
    r"have just |all |off |over )*(?:fallen|fell|fall|falls)\b",
    # strokes, chests, hearts and breaths that are not emergencies
    r"\bstroke of (?:luck|genius|midnight|the pen|fortune)\b|\b(?:at|on) the stroke of\b|\bback ?stroke\b",
    r"\bbrush ?strokes?\b|\b(?:stroke|stroking|stroked|strokes) (?:the|my|his|her|a|our) "
    r"(?:cat|dog|kitten|puppy|pet|hair|hand|head|beard)\b",
    r"\b(?:since|after|before) (?:his|her|my|the|their|your) (?:stroke|heart attack|fall)\b",
    r"\b(?:risk|risks|prevention|history) of (?:a |another )?(?:stroke|heart attack|falls?|falling)\b",
    r"\bprevent(?:ing)? (?:a |another )?(?:stroke|heart attack|falls?|falling)\b",
    r"\b(?:gave|give|giving|given|nearly had|almost had|nearly gave) (?:me |him |her |us )?a heart attack\b",
    r"\bchest of drawers\b|\bchest freezer\b|\btreasure chest\b|\boff (?:my|your|his|her) chest\b",
    r"\bheart is set on\b|\bset my heart on\b|\bheart set on\b",
    r"\bbreathe a word\b|\bbreath of fresh air\b|\bbreathing (?:exercises?|space|class|technique)\b",
    r"\btook my breath away\b|\btake (?:my|your|his|her) breath away\b|\bdeep breaths?\b|\bbad breath\b",
    r"\bchoking hazard\b|\bchoked up\b|\bchok(?:ing|ed) back\b|\b(?:until|till) (?:im |i am |youre |hes |shes )?"
    r"blue in the face\b",
    r"\bfall of (?:snow|rain|leaves|soot)\b|\bpass out (?:the|leaflets|flyers|sweets|cards)\b",
    r"\bcollapsed (?:the|a|my|his|her) (?:chair|camping chair|table|tent|umbrella|pram|buggy|wheelchair|walker|frame|"
    r"box|boxes|bed|cot|gazebo)\b",
    r"\b(?:bird|birds|cat|dog|squirrel|spider|mouse|pigeon|ball|toy|pen|key|keys|coin|ring|earring|stick|"
    r"hearing aid|dentures|brush|pan|spoon|fork|knife) (?:has |have |had |just |has just )*(?:fallen|fell)\b",
    r"\bdie (?:of|from) (?:boredom|embarrassment|laughing|shame)\b|\bdie laughing\b",
    # blood, collapses, silence and dying that are not emergencies
    r"\bbleeding (?:a lot of |lots of )?money\b|\bbleeding (?:me|us) dry\b|\bbleeding heart\b",
    r"\b(?:colours?|dye|red|ink|paint) (?:has |have )?(?:bled|bleeding|bleed|run)\b",
    r"\b(?:fence|shed|roof|wall|shelf|shelves|umbrella|tent|company|business|chair|table|deal|talks|cake|souffle|"
    r"market|sofa|bed frame|gazebo|trellis|bridge|scheme|firm|plan|plans) (?:has |have |had |just |is |was )*"
    r"(?:collapsed|collapsing|collapse)\b",
    r"\b(?:app|phone|computer|laptop|website|site|screen|tv|telly|remote|tablet|ipad|mouse|keyboard|system|page|"
    r"printer|line|queue|traffic|bus|train|car|clock|council|bank|company|office|shop) (?:is |isnt |has |was |keeps |"
    r"just )*(?:not |stopped |wont |isnt )?(?:responding|moving|wake up|waking up)\b",
    r"\bdying (?:to|for)\b|\b(?:bored|scared|frightened|worried|tired) to death\b|\bdead (?:tired|beat|battery)\b",
    r"\b(?:dont|do not) want to die (?:without|before|intestate|in debt|alone|in hospital|in a home|in a care home|"
    r"with debts)\b",
    r"\bwant to die (?:at home|in my own bed|peacefully|in hospital|in a hospice)\b",
    # fires, gas and alarms that are not emergencies
    r"\bfire (?:up|away|alarm|brigade|safety|drill|extinguisher|door|escape|place|wood|works|station|service|officer|"
    r"fighters?|risk|blanket|check|test)\b|\bfired (?:up|from)\b|\bgot fired\b|\bfireworks?\b|\bbonfire\b",
    r"\b(?:open|log|gas|electric|coal|real|wood) fire\b|\b(?:by|near|in front of|light|lit|put on|turn on|switch on) "
    r"the fire\b|\bthe fire on\b",
    r"\b(?:im|i am|youre|you are|were|we are|hes|shes|he is|she is) on fire (?:with|at|today|tonight|this)\b",
    r"\b(?:smoke|fire|co|carbon monoxide) (?:alarm|detector)s? (?:battery|batteries|needs|keeps beeping|is beeping|"
    r"chirping|test|fitted|installed|check)\b",
    r"\bburglar (?:alarm|proof)\b|\bburglary (?:prevention|insurance|claim)\b",
    r"\b(?:stop|prevent|deter|protect|keep out|worried about|afraid of|scared of|frightened of|safe from|against) "
    r"(?:my home from |me from |the )?burglars?\b",
    r"\b(?:need|want|like|send|sending|get|have|book|arrange|find|could|can|would) (?:a |some )?(?:someone|somebody)\b",
    r"\bbroke the news\b|\bbroken in (?:shoes|boots)\b",
    r"\b(?:bailiffs?|debt collectors?|landlord|landlady|council|bank|letters?|company|companies|hmrc|lenders?|"
    r"creditors?) (?:are |is |keep |keeps |have been |has been |have |has )*(?:threatening|threatened)\b",
    # words for emergencies used in ordinary requests
    r"\bemerg[ae]n(?:c|s)y (?:contact|contacts|number|numbers|plan|fund|dentist|plumber|electrician|locksmith|alarm|"
    r"pendant|button|cord|lighting|cover|boiler|appointment|prescription|repair|call out|callout|services|kit|"
    r"supplies|key|keys)\b",
    r"\bnon emerg[ae]ncy\b|\bnot (?:an |a real )?emerg[ae]ncy\b|\bisnt an emerg[ae]ncy\b|\bno emerg[ae]ncy\b",
    r"\bin (?:an|case of an?|case of|the event of an?) emerg[ae]ncy\b",
    r"\b(?:will|would|gonna|going to) have a fit\b|\bkeep fit\b",
    # what nearly happened, and figures of speech
    r"\b(?:nearly|almost|could have|couldve|could of|might have) (?:choked|died|passed out|fainted|fallen|fell|"
    r"had a heart attack|had a stroke|burnt|burned|drowned|set \w+ (?:on fire|alight))\b",
    r"\b(?:feet|foot|hands|hand|legs|leg|knees|knee|back|mouth|tongue|ears|face|cheeks|joints|hips|muscles) "
    r"(?:is |are |was |were |s |feel |feels |felt )?(?:like (?:they are |theyre |its |it is )?)?on fire\b",
    r"\b(?:passed out|died|dying|choked|choking|collapsed) (?:from|of|with) (?:boredom|laughter|laughing|"
    r"embarrassment|excitement)\b|\bchok(?:ed|ing) (?:with )?laugh(?:ing|ter)\b",
    r"\b(?:give|gives|giving|gave|given) (?:me|him|her|us|them) (?:a |an )?(?:stroke|heart attack|fit|seizure|"
    r"coronary)\b",
)
"""Ordinary phrases that contain an emergency word; blanked out before the signs are searched."""

_COUNT = (
    r"(?:a |an |one |two |three |four |five |six |seven |eight |nine |ten |twelve |twenty |thirty |forty |fifty |"
    r"\d+ |a few |few |a couple of |several |many |some )"
)
_AGE = r"(?:\d+|ten|twelve|fifteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?: \w+)?"
_LONG = r"(?:years?|months?|weeks?|decades?|winters?|summers?|springs?|autumns?|christmases)"
_BACK_IN = (
    r"back in (?:the )?(?:(?:19|20)?\d0s|(?:19|20)\d\d|fifties|sixties|seventies|eighties|nineties|day|days|war)"
)

PAST: Final = re.compile(
    r"(?: \w+){0,4}? (?:last (?:year|month|week|winter|summer|spring|autumn|christmas|easter)|"
    rf"{_COUNT}?{_LONG} (?:ago|back)|{_BACK_IN}|"
    r"in (?:19|20)\d\d|a while ago|a long time ago|in the (?:spring|summer|autumn|winter))\b"
)
"""A time long past within a few words after a sign: "had a stroke three years ago" is history."""

RECOVERED: Final = re.compile(
    r"(?: \w+){0,4}? (?:but|and) (?:(?:she|he|im|i am|shes|hes|they are|theyre|i) )?(?:is |s |was |am |feel |feels "
    r"|felt )?(?:better|fine|ok|okay|alright|all right|recovered|unhurt)(?: now)?\b"
)
"""Said just after a fall: "I slipped but I'm fine" is not an emergency (other signs still count)."""

NOT_NOW: Final = _compile(
    # past: a time long gone, an age long passed, or an event the writer has come through
    rf"\b{_LONG} (?:ago|back)\b|\b{_BACK_IN}\b|\blast (?:year|month|week|winter|summer|spring|autumn|christmas|"
    r"easter|time)\b|\bin (?:19|20)\d\d\b|\ba (?:long time|while) ago\b",
    rf"\bwhen (?:i|he|she|we|they|my \w+) (?:was|were) (?:young|younger|little|a child|a girl|a boy|a lad|a teenager|"
    rf"at school|a baby|{_AGE})\b|\bas a (?:child|girl|boy|lad|teenager|youngster|baby|young (?:man|woman))\b"
    r"|\bwhen (?:the|my|our|his|her) (?:children|kids|boys|girls|grandchildren|twins) were (?:small|little|young|"
    r"babies|at school|growing up|teenagers)\b",
    r"\bin (?:my|his|her|their|our) (?:teens|twenties|thirties|forties|fifties|sixties|seventies|eighties|youth|"
    r"younger days)\b|\bnever (?:again|another|had another)\b|\bever since\b",
    r"\b(?:who|that) (?:has had|had|has|suffered|survived|is recovering from|has recovered from|lives with) "
    r"(?:a |an )?(?:stroke|heart attack|fall|falls|seizures?|fits?|epilepsy)\b"
    r"|\b(?:died|passed away) (?:of|from|after) (?:a |an |his |her |their )?\w+",
    r"\b(?:since|after|before) (?:my|his|her|their|the) (?:fall|stroke|heart attack|operation|op|accident)\b",
    r"\b(?:used to|recovered from|got over|recovering from|back home after|anniversary of)\b",
    # over: the writer says it ended well
    r"\b(?:but|and) (?:i|im|she|he|shes|hes|they|theyre|we|were|it|its) (?:am |is |are |was |s |m |feel |feels |"
    r"felt )?(?:fine|ok|okay|alright|all right|better|unhurt|not hurt)\b|\bno harm done\b|"
    r"\bnever mind\b(?! (?:the|that|this|my|about|all|your|him|her|them|it)\b)|"
    r"\b(?:fine|better|ok|okay) now\b",
    # hypothetical: what if, in case, worried it might
    r"\b(?:what|wat) (?:if|happens if|would happen if|do (?:i|we|you) do if|should (?:i|we) do (?:if|when))\b",
    r"\b(?:in case|just in case|should (?:i|he|she) ever|if ever|if (?:i|he|she|they|we|someone|mum|dad|my \w+) "
    r"(?:ever |were to |was to |should |does |did |had |has |gets? |falls?|fell))\b",
    r"\b(?:worried|afraid|scared|frightened|terrified|nervous|anxious|fear|fears) (?:about |of |that )?(?:i |he |she |"
    r"they |mum |dad |my \w+ )?(?:might |will |could |may |would )?(?:falling|fall|having|have|getting|get|"
    r"choking|choke|being)\b",
    # informational: signs, symptoms, prevention, first aid, leaflets, the number to ring
    r"\b(?:signs?|symptoms?|warning signs?|risk|risks|causes?|chances) (?:of|for)\b",
    r"\bdifference between\b|\bwhat (?:does|do) (?:an? |the )?(?:\w+ ){1,3}feel like\b"
    r"|\b(?:right|best|correct|proper|safest|quickest) way to\b"
    r"|\bwhat (?:number|numbers) (?:do|should|would|can|could|to) (?:i |you |we |people |one )?(?:ring|call|dial|use)?\b",
    r"\bhow (?:do|can|would|could|should) (?:i|you|we|one|people) (?:know|tell|spot|recogni[sz]e|prevent|avoid|"
    r"stop|reduce|check|treat|help)\b|\bhow to (?:prevent|avoid|spot|recogni[sz]e|treat|help|cope)\b",
    r"\b(?:first aid|course|leaflet|class|talk|article|information|info|advice) (?:on|about|for)\b",
    # purchases, fitting and servicing of safety equipment
    r"\b(?:buy|buying|bought|order|ordering|purchase|install|installing|fit|fitting|fitted|service|serviced|"
    r"servicing|test|testing|replace|replacing|check|checked|checking)(?: \w+){0,3} (?:alarm|alarms|pendant|"
    r"detector|detectors|grab rails?|handrails?|rails?|boiler|shower seat|bath seat|walking frame|walker|"
    r"stair lift|stairlift|fire extinguisher|fire blanket|smoke alarm|first aid kit)\b",
    r"\b(?:alarm|detector|boiler|pendant)(?: \w+){0,4} (?:battery|batteries|service|servicing|check|inspection|"
    r"beeping|chirping)\b",
    # stories: the news, television, radio, films and books
    r"\b(?:on|in) (?:the )?(?:news|tv|telly|television|radio|paper|papers|newspaper|film|movie|book|novel|"
    r"programme|program|show|soap|episode|documentary)\b",
    r"\b(?:watched|watching|saw|seen|read|reading|heard|listening to|listened to) (?:a |an |the |that |this |about )?"
    r"(?:\w+ )?(?:programme|program|documentary|film|movie|story|article|report|series|soap|episode|play|news|"
    r"novel|item|drama)\b|\bdid you (?:see|hear|read|watch)\b",
    r"\b(?:news|radio|paper|papers|newspaper|telly|tv|programme|documentary|film|movie|story|article|report|"
    r"series|soap|episode|novel|book|drama) (?:\w+ )?(?:said|says|showed|shows|reported|reports|was about|is about|"
    r"about|where|in which)\b",
)
"""Past, hypothetical, informational and purchase mentions: "a fall years ago", "what are the signs of a
stroke", "if I fall", "the boiler is due its service", "buy an alarm pendant". Such a message is not
an emergency now: at most the *possible* tier asks (see :mod:`assistant.care.safety.alarm_tiers`)."""


def describes_not_now(text: str) -> bool:
    """True when the text speaks of an emergency in the past, as over, as a question of information,
    as a possibility or as something to buy or service, rather than as happening now."""
    return NOT_NOW.search(normalise(text)) is not None


def uses_innocent_phrase(text: str) -> bool:
    """True when the text uses an emergency word in an ordinary phrase ("fell asleep", "chest freezer")."""
    return INNOCENT.search(normalise(text)) is not None


_APOSTROPHES: Final = re.compile(r"['\u2018\u2019\u02bc`\u00b4\u2032]")
_NON_WORD: Final = re.compile(r"[^a-z0-9]+")
_SPLIT_NOT: Final = re.compile(r"\b(can|don|won|isn|doesn|didn|couldn|wouldn|shouldn|aren|wasn|haven|hasn) t\b")
_SPLIT_I: Final = re.compile(r"\bi (m|ve|d|ll)\b")
_STRETCHED: Final = re.compile(r"([a-z])\1{2,}")
_DOUBLED: Final = re.compile(r"([a-z])\1+")
_ALOT: Final = re.compile(r"\balot\b")


def normalise(text: str) -> str:
    """Lower-case ASCII words separated by single spaces, apostrophes dropped, stretched letters squeezed,
    "alot" written "a lot"."""
    text = unicodedata.normalize("NFKD", text[:MAX_CHARS].lower()).encode("ascii", "ignore").decode("ascii")
    text = _NON_WORD.sub(" ", _APOSTROPHES.sub("", text)).strip()
    text = _SPLIT_I.sub(r"i\1", _SPLIT_NOT.sub(r"\1t", text))
    return _ALOT.sub("a lot", _STRETCHED.sub(r"\1\1", text))


def _signs_in(text: str) -> Iterator[str]:
    """The kinds whose patterns match a normalised text, skipping matches that describe the past."""
    text = INNOCENT.sub(" ~ ", text)
    for kind, pattern in SIGNS:
        for match in pattern.finditer(text):
            if PAST.match(text, match.end()) or (kind == "fall" and RECOVERED.match(text, match.end())):
                continue
            yield kind
            break


def _readings(text: str) -> Iterator[str]:
    """The normalised text; then (if letters were stretched, "heeelp") the text with no doubled letters;
    then (if it had any) the text with its misspelled emergency words spelled as usual ("fiyer")."""
    raw = text[:MAX_CHARS].lower()
    normalised = normalise(text)
    yield normalised
    if _STRETCHED.search(raw):
        yield _DOUBLED.sub(r"\1", normalised)
    corrected = correct(normalised)
    if corrected != normalised:
        yield corrected


def emergency_signs(text: str) -> tuple[str, ...]:
    """Every kind of emergency the text describes, most urgent first (empty when none)."""
    for reading in _readings(text):
        kinds = tuple(_signs_in(reading))
        if kinds:
            return kinds
    return ()


def emergency_sign(text: str) -> Optional[str]:
    """The most urgent kind of emergency the text describes ("fall", "chest pain", ...), or None."""
    for reading in _readings(text):
        for kind in _signs_in(reading):
            return kind
    return None
