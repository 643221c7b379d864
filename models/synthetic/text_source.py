"""Line texts for synthetic pages: sentences in mixed languages with digits and punctuation, from a seed."""

import numpy as np

_WORDS = """
the of and to in that it was for on are with as his they be at one have this from or had by word but what
some we can out other were all there when up use your how said an each she which do their time if will way
about many then them write would like so these her long make thing see him two has look more day could go
come did number sound most people over know water than call first who may down side been now find any new
work part take get place made live where after back little only round man year came show every good give
under name very through just form sentence great think say help low line differ turn cause much mean before
move right boy old too same tell does set three want air well also play small end put home read hand port
large spell add even land here must big high such follow act why ask men change went light kind off need
house picture try again animal point mother world near build self earth father head stand own page should
country found answer school grow study still learn plant cover food sun four between state keep eye never
last let thought city tree cross farm hard start might story saw far sea draw left late run while press
close night real life few north open seem together next white children begin got walk example ease paper
group always music those both mark often letter until mile river car feet care second book carry took
science eat room friend began idea fish mountain stop once base hear horse cut sure watch color face wood
main enough plain girl usual young ready above ever red list though feel talk bird soon body dog family
direct pose leave song measure door product black short numeral class wind question happen complete ship
area half rock order fire south problem piece told knew pass since top whole king space heard best hour
better true during hundred five remember step early hold west ground interest reach fast verb sing listen
six table travel less morning ten simple several vowel toward war lay against pattern slow center love
person money serve appear road map rain rule govern pull cold notice voice unit power town fine certain fly
fall lead cry dark machine note wait plan figure star box noun field rest correct able pound done beauty
drive stood contain front teach week final gave green quick develop ocean warm free minute strong special
mind behind clear tail produce fact street inch multiply nothing course stay wheel full force blue object
decide surface deep moon island foot system busy test record boat common gold possible plane stead dry
wonder laugh thousand ago ran check game shape equate miss brought heat snow tire bring distant fill east
paint language among grand ball yet wave drop heart present heavy dance engine position arm wide sail
material size vary settle speak weight general ice matter circle pair include divide syllable felt
perhaps pick sudden count square reason length represent art subject region energy hunt probable bed
brother egg ride cell believe fraction forest sit race window store summer train sleep prove lone leg
exercise wall catch mount wish sky board joy winter sat written wild instrument kept glass grass cow job
edge sign visit past soft fun bright gas weather month million bear finish happy hope flower clothe
strange gone jump baby eight village meet root buy raise solve metal whether push seven paragraph third
shall held hair describe cook floor either result burn hill safe cat century consider type law bit coast
copy phrase silent tall sand soil roll temperature finger industry value fight lie beat excite natural
view sense ear else quite broke case middle kill son lake moment scale loud spring observe child straight
consonant nation dictionary milk speed method organ pay age section dress cloud surprise quiet stone tiny
climb cool design poor lot experiment bottom key iron single stick flat twenty skin smile crease hole
die et la le les des une dans pour avec sur par mais nous vous ils elle être avoir fait comme tout bien
très où même après année église château été déjà père mère frère rivière ville siècle hôtel forêt fenêtre
garçon leçon français reçu façade ça où là voilà à côté première dernière lumière manière histoire
der die das und ist nicht mit sich auf für von dem den zu im ein eine auch als noch nach bei aus wie über
für müssen können schön grün früh später wäre Mädchen Straße Fuß groß weiß heißen Grüße Bücher Häuser
Brücke Gemeinde Kirche Urkunde Rechnung Stadt Herzog Kaiser Jahr Monat Woche Zeit Tür Hölle
el los las del por con una para como más pero sus año niño señor mañana España ciudad corazón canción
de het een van en op te dat niet zijn voor ook met maar bij uit
"""
WORDS = tuple(dict.fromkeys(_WORDS.split()))
_PUNCTUATION = (",", ",", ",", ";", ":")
_ENDINGS = (".", ".", ".", ".", "!", "?", ";", ":")
_LOWER_ACCENTS = "áàâäçéèêëíîïñóôöúùûüß"
CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?'\"()-/%&§—" + _LOWER_ACCENTS
)
"""Every character the texts can hold (no capital letters with accents above: lines keep one band height)."""
MIN_CHARS = 10


def capital(word: str) -> str:
    """The word with a capital first letter, unless that letter has an accent (it would stand taller)."""
    return word if word[:1] in _LOWER_ACCENTS else word[:1].upper() + word[1:]


def caption_prefix(rng: np.random.Generator) -> str:
    """How a caption starts: "Fig. 3 — ", "Plate 12. ", "Abb. 4: "."""
    label = str(rng.choice(["Fig.", "Figure", "Plate", "Abb.", "Tab."]))
    return f"{label} {rng.integers(1, 60)}{rng.choice([' — ', '. ', ': '])}"


def number(rng: np.random.Generator) -> str:
    """A year, count, amount, date, percentage, paragraph sign or number sign."""
    form = rng.integers(8)
    if form == 0:
        return str(rng.integers(1450, 2000))
    if form == 1:
        return f"{rng.integers(1, 100)},{rng.integers(0, 100):02d}"
    if form == 2:
        return f"{rng.integers(1, 29)}.{rng.integers(1, 13):02d}.{rng.integers(1600, 1950)}"
    if form == 3:
        return f"{rng.integers(1, 100)}%"
    if form == 4:
        return f"§ {rng.integers(1, 200)}"
    if form == 5:
        return f"No. {rng.integers(1, 500)}"
    return str(rng.integers(1, 10 ** rng.integers(1, 5)))


def _word(rng: np.random.Generator) -> str:
    """One word, mostly lower case, sometimes capitalised or in capitals, sometimes a number."""
    if rng.random() < 0.08:
        return number(rng)
    word = str(WORDS[rng.integers(len(WORDS))])
    roll = rng.random()
    if roll < 0.12:
        return capital(word)
    if roll < 0.14 and not any(c in _LOWER_ACCENTS for c in word):
        return word.upper()
    if roll < 0.17:
        return f"{word}-{WORDS[rng.integers(len(WORDS))]}"
    return word


def sentence(rng: np.random.Generator) -> list[str]:
    """The words of one sentence, with commas, an occasional quote or parenthesis, and a final mark."""
    words = [_word(rng) for _ in range(rng.integers(4, 16))]
    words[0] = capital(words[0])
    for index in range(len(words) - 1):
        roll = rng.random()
        if roll < 0.1:
            words[index] += str(rng.choice(_PUNCTUATION))
        elif roll < 0.13:
            words[index] = f"({words[index]})"
        elif roll < 0.15:
            words[index] = f'"{words[index]}"' if rng.random() < 0.5 else f"'{words[index]}'"
    words[-1] += str(rng.choice(_ENDINGS))
    return words


def title(rng: np.random.Generator, max_chars: int) -> str:
    """A title or heading: capitalised words, sometimes numbered, no final mark, at most `max_chars`."""
    prefix = ""
    if rng.random() < 0.4:
        prefix = str(rng.choice(["", "§ ", "No. ", "Chapter ", "Part "])) + f"{rng.integers(1, 40)}. "
    words = [capital(str(WORDS[rng.integers(len(WORDS))])) for _ in range(12)]
    return _fit([prefix + words[0], *words[1:]], max_chars)


class TextStream:
    """Running text: sentence after sentence, handed out line by line in whole words."""

    def __init__(self, rng: np.random.Generator, prefix: str = "") -> None:
        self.rng = rng
        self.pending: list[str] = [prefix.strip()] if prefix else []

    def line(self, max_chars: int) -> str:
        """The next words that fit in `max_chars` characters (at least MIN_CHARS where that allows): a word
        that would not fit a still too short line is dropped."""
        words: list[str] = []
        length = -1
        while True:
            if not self.pending:
                self.pending = sentence(self.rng)
            word = self.pending[0]
            if length + 1 + len(word) <= max_chars:
                words.append(self.pending.pop(0))
                length += 1 + len(word)
            elif length >= min(MIN_CHARS, max_chars) or length >= max_chars - 2:
                return " ".join(words)
            else:
                self.pending.pop(0)


def _fit(words: list[str], max_chars: int) -> str:
    """The leading words that fit in `max_chars` (the first one always)."""
    text = words[0]
    for word in words[1:]:
        if len(text) + 1 + len(word) > max_chars:
            break
        text += " " + word
    return text
