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
    r"""<\s*(?:photo|picture|image|img|video|audio|file|attachment)[^>]{0,20}>   # <Photo>, <Picture Attached>
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
# The output admits it cannot see the content: then the record is honest, not hallucinated.
_ADMITS = re.compile(
    r"\b(?:I\s+(?:am\s+)?(?:cannot|can't|can\s+not|am\s+unable|am\s+not\s+able|do\s+not\s+have\s+access|don't\s+have\s+access)"
    r"|(?:unable|not\s+able)\s+to\s+(?:access|view|see|open|watch|listen|browse)|as\s+an\s+AI|language\s+model|"
    r"cannot\s+be\s+(?:completed|fulfilled|performed)|no\s+(?:image|photo|picture|link|url|video)\s+(?:was|is)\s+(?:provided|given|attached))",
    re.IGNORECASE,
)


@register("unseeable_content", category="unseeable_content", order=70, score="strength",
          summary=('URL whose page the task is about, attachment placeholders, "the following photo" with no'
                   ' input; unless the output admits it cannot see it'))
class UnseeableContent(Detector):
    """The instruction/input points at content a text model cannot see (a URL whose page the
    task is about, an attachment placeholder, "the following photo" with nothing following) and
    the output describes it anyway: a hallucinated answer."""

    confidence = 0.64  # 95% Wilson lower bound of its dev-set precision (25/31), docs/detectors.md

    def check(self, rec):
        inst, inp, out = rec["instruction"], rec["input"], rec["output"]
        if _ADMITS.search(out):
            return None
        evidence = None
        url = _URL.search(inp) or _URL.search(inst)
        if url and _CONTENT_WORDS.search(inst):
            where = "input" if _URL.search(inp) else "instruction"
            evidence = f"{where} points at a URL {quote(url.group(0), 50)} and the task is about its content"
        elif _ATTACHMENT.search(inp) or _ATTACHMENT.search(inst):
            m = _ATTACHMENT.search(inp) or _ATTACHMENT.search(inst)
            evidence = f"refers to an attachment {quote(m.group(0), 40)} that a text model cannot see"
        elif _FOLLOWING_MEDIA.search(inst) and not inp.strip():
            m = _FOLLOWING_MEDIA.search(inst)
            evidence = f"instruction refers to {quote(m.group(0), 40)} but no input is given"
        if evidence:
            return Finding(0.9, f"{evidence}; output {quote(out, 50)} describes it as if seen")
        return None

# ---------------------------------------------------------------- non-text requests

_MEDIA_OUT = r"(?:image|picture|photo|photograph|drawing|painting|illustration|video|animation|audio|sound\s*clip|recording|logo|graphic|collage|meme|gif|icon|(?<!character\s)sketch)s?"
_NON_TEXT = re.compile(
    rf"""^\s*(?:please\s+)?(?:
          (?:draw|paint|sketch|photograph|film|animate)\b
        | illustrate\b(?![^.]{{0,40}}\bwith\s+an?\s+example)(?!\s+(?:how|why|what|when|where|the\s+(?:concept|importance|difference|idea|process|use|way|effect|impact)|with|using|an?\s+example))
        | (?:create|generate|design|produce|make|take|record|render|build|shoot)\s+
          (?:(?:a|an|the|some|one|two|three|\d+|your|me)\s+)?
          (?:(?!for\b|of\b|about\b|to\b|that\b|with\b|describing\b|caption|title|description|name|slogan|phrase|story|poem|text|script|tagline|lyrics|concept|idea|list|plan|prompt)[\w'-]+\s+){{0,3}}?
          {_MEDIA_OUT}\b(?!\s+(?:caption|title|description|name|prompt|idea|concept|slogan)s?\b))""",
    re.IGNORECASE | re.VERBOSE,
)


@register("non_text_request", category="non_text_request", order=80, score="strength",
          summary=('instruction asks to draw/create/design an image, logo, video, audio ... (not a caption '
                   'or description of one)'))
class NonTextRequest(Detector):
    """The instruction asks for an image, logo, drawing, audio or video: not something a text
    model can produce (AlpacaDataCleaned: "instructions to generate images")."""

    confidence = 0.89  # 95% Wilson lower bound of its dev-set precision (30/30), docs/detectors.md

    def check(self, rec):
        m = _NON_TEXT.match(rec["instruction"])
        if m:
            return Finding(0.8, f"instruction asks for non-text output: {quote(m.group(0).strip(), 50)}")
        return None
