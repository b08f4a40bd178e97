"""Content a text model cannot see or make: tasks about a URL's page or an attached picture
answered as if seen, and requests for images, audio or video (AlpacaDataCleaned's "hallucinated
answers to content a text model cannot see" and "instructions to generate images").
"""

from __future__ import annotations

import re

from curate.core.text import quote
from curate.detectors.registry import Detector, Finding, register


_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_ATTACHMENT = re.compile(
    r"""<\s*(?:photo|picture|image|img|video|audio|file|attachment)[^>=]{0,20}>   # <Photo>, <Picture Attached>
      |<\s*(?:(?:insert|include|attach(?:ed)?|link\s+to)\s+)?(?:an?\s+|the\s+)?  # <image of a beach>, <link to article>
         (?:photo|photograph|picture|image|video|audio|recording|song|painting|drawing|screenshot|link|url)
         (?:\s+(?:of|to|here|logo|attached)\b[^<>=]{0,50})?\s*>
      |[\[(]\s*(?:attached\s+)?(?:photo|picture|image|video|audio|file|painting)[^\])]{0,20}[\])]  # [Image], (attached image)
      |!\[[^\]]*\]\(                                            # markdown image
      |\battached\s+(?:photo|picture|image|file|document|video|audio|painting)
      |\b(?:photo|picture|image|file|document|video|audio)\s+(?:is\s+)?attached""",
    re.IGNORECASE | re.VERBOSE,
)
# Instruction words that ask about what is *at* a link, not about the link text itself.
_CONTENT_WORDS = re.compile(
    r"\b(?:article|page|web\s*page|website|site|blog|post|video|clip|song|music|audio|podcast|photo|"
    r"picture|image|painting|paper|document|news|content|homepage|summar\w*|review|describe|watch|listen|read)\b",
    re.IGNORECASE,
)
_MEDIA_NOUN = r"(?:photo|photograph|picture|image|video|clip|audio|recording|painting|drawing|chart|graph|diagram|screenshot|figure)"
_FOLLOWING_MEDIA = re.compile(rf"\b(?:following|given|provided|attached|this|above|below)\s+{_MEDIA_NOUN}s?\b", re.IGNORECASE)
# Words too common to say anything about a page's content (the URL-text check below).
_STOP = frozenset("""the and for with are was were been this that its from about into their there they them his her
she you your our can will would should could has have had not but which what who how also more most very such these
those than then some many any all each may one two new use used using well make made www http https html htm com org
net page article website site link following given provided""".split())


def _content_words(text: str) -> list[str]:
    """Lowercase alphabetic words of >= 4 letters that are not in :data:`_STOP`; camelCase and
    ``snake_case``/``kebab-case`` are split, so URL paths yield their words."""
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return [w for w in re.findall(r"[a-z]+", text.lower()) if len(w) >= 4 and w not in _STOP]


def _beyond_visible(rec) -> list[str]:
    """Output content words that appear nowhere in the instruction, the input or the URL text
    (prefix match on 5 letters, so "summarizes" matches "summary"): what the output claims
    beyond what a text model could read."""
    visible = set(_content_words(rec["instruction"] + " " + rec["input"]))
    stems = {w[:5] for w in visible}
    return [w for w in _content_words(rec["output"]) if w not in visible and w[:5] not in stems]


# An input that stands in for the content instead of carrying it: "The article", "(Flag image)",
# "Article about politics", "The title of the article", "This article discusses X." (one line).
_STANDIN_NOUN = (r"(?:article|news\s+article|blog\s+post|essay|paper|report|story|book|speech|video|clip|photo|"
                 r"photograph|picture|image|painting|artwork|drawing|song|podcast|website|web\s*page|document|file|flag)")
_STANDIN = re.compile(
    rf"""^\s*[(\[<]?\s*(?:
         (?:an?\s+|the\s+)?(?:\w+\s+)?{_STANDIN_NOUN}(?:\s+(?:image|photo|picture|file|link|text|title))?
       | (?:insert|include|attach)\s+(?:an?\s+|the\s+)?{_STANDIN_NOUN}
       | (?:an?\s+|the\s+)?{_STANDIN_NOUN}\s+(?:about|on|of|from|regarding)\b[^.\n]{{0,60}}
       | (?:the\s+)?(?:title|name|link|url)\s+of\s+(?:the|an?|this)\s+{_STANDIN_NOUN}
       | (?:this|the)\s+{_STANDIN_NOUN}\s+(?:is\s+about|discusses|describes|shows|explains|talks\s+about|covers)\b[^\n]{{0,120}}
       )\s*[)\]>]?\s*\.?\s*$""", re.IGNORECASE | re.VERBOSE)
# Tasks that need the content itself; a title, headline, caption or keywords can come from a description.
_NEEDS_CONTENT = re.compile(r"\b(?:summar\w*|analy[sz]\w*|evaluate|assess|review|rate|rating|critique|outline|key\s+points|"
                            r"main\s+(?:points?|ideas?|argument|themes?)|themes?|mention\w*|identify|list|edit|proofread|"
                            r"describe|opinion|feedback|what\s+(?:kind|does|is)|classify|categori[sz]e)\b", re.IGNORECASE)
_FROM_DESCRIPTION = re.compile(r"\b(?:title|headline|caption|keywords?|hashtags?|slogan|catchphrase|tagline|adjectives?|"
                               r"name|questions?|suggest|recommend)\b", re.IGNORECASE)


# The output admits it cannot see the content: then the record is honest, not hallucinated.
_ADMITS = re.compile(
    r"\b(?:I\s+(?:am\s+)?(?:cannot|can't|can\s+not|am\s+unable|am\s+not\s+able|do\s+not\s+have\s+access|don't\s+have\s+access)"
    r"|(?:unable|not\s+able)\s+to\s+(?:access|view|see|open|watch|listen|browse)|as\s+an\s+AI|language\s+model|"
    r"cannot\s+be\s+(?:completed|fulfilled|performed)|no\s+(?:image|photo|picture|link|url|video)\s+(?:was|is)\s+(?:provided|given|attached))",
    re.IGNORECASE,
)


@register("unseeable_content", category="unseeable_content", order=70, score="strength",
          summary=('URL whose page the task is about (unless every word the output uses is in the link text),'
                   ' attachment placeholders (`<image of a beach>`), "the following photo" with no input; unless'
                   ' the output admits it cannot see it'))
class UnseeableContent(Detector):
    """The instruction/input points at content a text model cannot see (a URL whose page the
    task is about, an attachment placeholder such as ``<Photo>``, ``<image of a train station>``
    or ``<link to article>``, "the following photo" with nothing following) and the output
    describes it anyway: a hallucinated answer.

    A URL answer readable from the link text is fine: when every content word of the output
    (>= 4 letters, not a stop word) appears in the instruction, the input or the URL's own
    words ("wiki/Vincent_van_Gogh" -> "Vincent van Gogh"; ".../fashion/..." -> "Fashion
    article"), the record is left alone. Otherwise the reason names the words the output adds
    beyond the visible text. An input that stands in for the content ("The article", "(Flag
    image)", "Article about politics", "This article discusses X.") counts as no content when
    the task needs the content itself (summarise, analyse, rate, list its points; not a title or
    headline, which a description supports) and the output adds at least 3 words the record does
    not carry. False-positive risk: general knowledge about a famous site
    ("apple.com is Apple's website") uses words the URL does not carry."""

    confidence = 0.64  # 95% Wilson lower bound of its dev-set precision (25/31), docs/detectors.md

    def check(self, rec):
        inst, inp, out = rec["instruction"], rec["input"], rec["output"]
        if _ADMITS.search(out):
            return None
        evidence = None
        url = _URL.search(inp) or _URL.search(inst)
        if url and _CONTENT_WORDS.search(inst):
            beyond = _beyond_visible(rec)
            if not beyond:
                return None  # readable from the link text itself
            where = "input" if _URL.search(inp) else "instruction"
            shown = ", ".join(repr(w) for w in dict.fromkeys(beyond[:4]))
            evidence = (f"{where} points at a URL {quote(url.group(0), 50)} and the task is about its content; "
                        f"the output uses {len(beyond)} words the link text does not carry (e.g. {shown})")
        elif _ATTACHMENT.search(inp) or _ATTACHMENT.search(inst):
            m = _ATTACHMENT.search(inp) or _ATTACHMENT.search(inst)
            evidence = f"refers to an attachment {quote(m.group(0), 40)} that a text model cannot see"
        elif (_STANDIN.match(inp) and len(inp.split()) <= 25 and re.search(_STANDIN_NOUN, inst, re.IGNORECASE)
              and _NEEDS_CONTENT.search(inst) and not _FROM_DESCRIPTION.search(inst)
              and len(added := _beyond_visible(rec)) >= 3):
            evidence = (f"the input {quote(inp, 40)} stands in for the content instead of carrying it, and the "
                        f"output adds {len(added)} words the record does not carry")
        elif _FOLLOWING_MEDIA.search(inst) and not inp.strip():
            m = _FOLLOWING_MEDIA.search(inst)
            evidence = f"instruction refers to {quote(m.group(0), 40)} but no input is given"
        if evidence:
            return Finding(0.9, f"{evidence}; output {quote(out, 50)} describes it as if seen")
        return None

# ---------------------------------------------------------------- non-text requests

_MEDIA_OUT = (r"(?:image|picture|photo|photograph|drawing|painting|illustration|video|animation|audio|sound\s*clip|"
              r"recording|logo|graphic|collage|meme|gif|icon|(?<!character\s)sketch|chart|graph|plot|diagram|"
              r"flow\s*chart|infographic|poster|flyer|word\s*cloud|wire\s*frame|mock-?up|(?:graphical\s+)?user\s+interface|"
              r"UI|GUI|visuali[sz]ation|mind\s*map|storyboard|comic\s+strip|banner|avatar|emoji|3D\s+model|"
              r"melod(?:y|ie)|tune|jingle|soundtrack|ringtone|music|podcast|heat\s*map|map)s?")
_NON_TEXT = re.compile(
    rf"""^\s*(?:please\s+)?(?:
          (?:draw|paint|sketch|photograph|film|animate|plot)\b(?!\s+(?:a\s+)?(?:conclusion|comparison|parallel|inspiration|line\s+between)s?\b)
        | illustrate\b(?![^.]{{0,40}}\bwith\s+an?\s+example)(?!\s+(?:how|why|what|when|where|the\s+(?:concept|importance|difference|idea|process|use|way|effect|impact)|with|using|an?\s+example))
        | (?:create|generate|design|produce|make|take|record|render|build|shoot|compose|construct|develop|prepare|sketch\s+out)\s+
          (?:(?:a|an|the|some|one|two|three|\d+|your|me)\s+)?
          (?:(?!for\b|of\b|about\b|to\b|that\b|with\b|describing\b|caption|title|description|name|slogan|phrase|story|poem|text|script|tagline|lyrics|concept|idea|list|plan|prompt|outline|summary|theme|headline|question|song)[\w'-]+\s+){{0,3}}?
          {_MEDIA_OUT}\b(?!\s+(?:caption|title|description|name|prompt|idea|concept|slogan|script|outline|episode\s+title|questions?)s?\b)(?!-)
          (?!\s+(?:algorithm|model|library|system|class|function|program|query)\b))""",
    re.IGNORECASE | re.VERBOSE,
)
# The output stands in for the artifact instead of giving text: an image link or tag, a bracketed
# "[Flow Chart]" / "<image>", "here is the logo" with almost nothing after it.
_PRETENDS = re.compile(
    r"""!\[[^\]]*\]\(|<\s*(?:img|audio|video|iframe|embed|source)\b|https?://\S+\.(?:png|jpe?g|gif|svg|mp3|mp4|wav)\b
      |^\s*[\[<(][^\]>)]{0,80}[\]>)]\s*$|^\s*\[[^\]]{0,60}\]\s*\n
      |\b(?:is|are)\s+(?:attached|shown\s+below|below)\b|\bI\s+have\s+(?:designed|created|drawn|made|recorded|composed)\b""",
    re.IGNORECASE | re.VERBOSE | re.MULTILINE,
)
_TABLE_OR_CODE = re.compile(r"^\s*\|.*\|\s*$|```|\bimport\s+\w+|<svg\b|\bplt\.|^\s*[-=+|]{3,}", re.MULTILINE)


def _non_text_request(inst: str):
    return _NON_TEXT.match(inst)


def _substitute(out: str) -> str | None:
    """What usable text the output gives instead of the artifact ("a table", "a 54-word text
    description"), or None when it is empty, a placeholder or pretends to attach the artifact."""
    words = len(out.split())
    if _PRETENDS.search(out) or words < 12:
        return None
    if _TABLE_OR_CODE.search(out):
        return "a table or code"
    return f"a {words}-word text description"


@register("non_text_request", category="non_text_request", order=80, score="strength",
          summary=('instruction asks to draw/create/design an image, logo, chart, diagram, poster, word cloud, UI '
                   'mock-up, animation or audio (not a caption or description of one) and the output gives no '
                   'usable text instead (a placeholder, an image link, "I have designed ...")'))
class NonTextRequest(Detector):
    """The instruction asks for an image, logo, drawing, chart, graph, diagram, poster, word
    cloud, UI mock-up, animation, audio or video: not something a text model can produce
    (AlpacaDataCleaned: "instructions to generate images"), and the output does not give a
    usable text substitute: it is a placeholder (``[Flow Chart]``, ``<image>``), an image or
    audio link, "I have designed ...", or under 12 words. Requests answered with a usable text
    substitute go to :class:`NonTextSubstitute` instead. Not flagged: captions, titles,
    descriptions, lyrics or scripts *for* media ("Generate a caption for this photo",
    "Compose a song"), "illustrate how/with an example"."""

    confidence = 0.85  # 95% Wilson lower bound of its dev-set precision (21/21), docs/detectors.md

    def check(self, rec):
        m = _non_text_request(rec["instruction"])
        if m and _substitute(rec["output"]) is None:
            return Finding(0.8, f"instruction asks for non-text output: {quote(m.group(0).strip(), 50)}; "
                                f"output gives no usable text substitute: {quote(rec['output'], 40)}")
        return None


@register("non_text_substitute", category="non_text_request", order=81, score="strength",
          summary=('a non-text request (as non_text_request) whose output gives a usable text substitute '
                   '(a table, code, a text description); the reason says so'))
class NonTextSubstitute(Detector):
    """A non-text request (:class:`NonTextRequest`'s patterns) answered with a usable text
    substitute: a Markdown table for a chart, plotting code, a written design brief for a logo
    or poster (>= 12 words, no placeholder or fake attachment). The record is a reasonable
    demonstration; the finding says which substitute it gives so that a policy can keep it
    (the default) while a user can still find every non-text request in SQL."""

    confidence = 0.81  # 95% Wilson lower bound of its dev-set precision (40/43), docs/detectors.md

    def check(self, rec):
        m = _non_text_request(rec["instruction"])
        if m:
            sub = _substitute(rec["output"])
            if sub:
                return Finding(0.5, f"instruction asks for non-text output: {quote(m.group(0).strip(), 50)}; "
                                    f"output gives a usable text substitute: {sub}")
        return None
