#!/usr/bin/env python3
"""Writes the tokenizer.json test data of tests/test_tokenizer_json.cpp (not run in CI; output committed).

    python3 tests/data/tokenizer/generate_vectors.py [SHARED_DIR]   # needs `pip install tokenizers==0.23.3`

From GPT-2's encoder.json and vocab.bpe (SHARED_DIR/data/gpt2, default ../shared next to the checkout)
it builds a tokenizer.json with the Hugging Face `tokenizers` library and derives variants of it:
  gpt2    ByteLevel pre-tokenizer and decoder, <|endoftext|> special; merges as [a, b] pairs
  neox    the GPT-NeoX layout of xLSTM-7B's tokenizer: NFC normalizer, Split(GPT-2 regex) + ByteLevel
          without regex, special and normalized added tokens (lstrip, rstrip, whitespace runs),
          a TemplateProcessing post-processor adding <|endoftext|> in front; merges as "a b" strings
  prefix  ByteLevel with add_prefix_space
Files written here:
  gpt2_tokenizer.json       the gpt2 variant as `tokenizers` saves it
  <variant>_overlay.json    {"replace": {top-level keys of tokenizer.json}, "merges_as_strings": bool}:
                            the variant is gpt2_tokenizer.json with these keys replaced
  <variant>_vectors.jsonl   {"text": ..., "ids": [...]} (encode with add_special_tokens, the default)
                            and {"decode": [...], "text": ...} (decode with skip_special_tokens=False)
The texts are random but seeded: Brown Corpus sentences and mixtures of ASCII, whitespace of every
kind, contractions, numbers, Latin, Greek, Cyrillic, Arabic, Devanagari, Thai, CJK, Hangul (syllables
and jamo), combining marks (composed and decomposed), emoji, symbols, control characters, letters of
recent Unicode versions, random code points of all planes, and the added tokens.
"""
import copy
import json
import os
import random
import sys

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

HERE = os.path.dirname(os.path.abspath(__file__))
GPT2_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
VARIANT_KEYS = ["added_tokens", "normalizer", "pre_tokenizer", "post_processor", "decoder"]


def base_tokenizer(gpt2_dir):
    tok = Tokenizer(models.BPE.from_file(os.path.join(gpt2_dir, "encoder.json"), os.path.join(gpt2_dir, "vocab.bpe")))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.add_special_tokens([AddedToken("<|endoftext|>", special=True, normalized=False)])
    return tok


def neox_tokenizer(gpt2_dir):
    tok = base_tokenizer(gpt2_dir)
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(GPT2_PATTERN), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.add_special_tokens([AddedToken("<|padding|>", special=True, normalized=False),
                            AddedToken("<mask>", special=True, normalized=False, lstrip=True),
                            AddedToken("[SEP]", special=True, normalized=False, rstrip=True)])
    tok.add_tokens([AddedToken(" " * 4, normalized=True), AddedToken(" " * 2, normalized=True),
                    AddedToken("caf\u00e9!", normalized=True), AddedToken("<tab>\t", normalized=False)])
    tok.post_processor = processors.TemplateProcessing(single="<|endoftext|> $A", pair="<|endoftext|> $A $B",
                                                       special_tokens=[("<|endoftext|>", 50256)])
    return tok


def prefix_tokenizer(gpt2_dir):
    tok = base_tokenizer(gpt2_dir)
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    return tok


def brown_sentences(shared_dir, rng, count):
    folder = os.path.join(shared_dir, "data", "brown")
    names = sorted(n for n in os.listdir(folder) if len(n) == 4 and n[0] == "c")
    sentences = []
    for name in rng.sample(names, 20):
        for line in open(os.path.join(folder, name), encoding="utf-8"):
            words = [w.rsplit("/", 1)[0] for w in line.split()]
            if words:
                sentences.append(" ".join(words))
    return rng.sample(sentences, count)


def chunk(rng):
    """One random piece of text from a mix of scripts and character classes."""
    spaces = [" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", "\x0b", "\x0c", "\x85", "\xa0", "\u1680", "\u2000",
              "\u2005", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "\x1c", "\x1f", "\ufeff", "\u200b"]
    words = ["the", "The", "THE", "hello", "world", "don't", "I'm", "we'll", "they've", "you're", "he'd", "it's",
             "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "''", "'", "n't", "o'clock", "rock'n'roll"]
    numbers = ["0", "7", "42", "1234567", "3.14159", "1,000", "-12", "2024-05-01", "\u0661\u0662\u0663", "\u00b2",
               "\u00bd", "\u216b", "\u2460", "\u0967\u0968", "\uff11\uff12", "\U0001d7ce", "\u3007"]
    samples = ["caf\u00e9", "cafe\u0301", "na\u00efve", "\u00c5ngstr\u00f6m", "A\u030a", "\u212b", "\u1e9b\u0323",
               "\u0065\u0323\u0302", "\u01d7", "\u0055\u0308\u0301", "\uac00", "\u1100\u1161", "\u1100\u1161\u11a8",
               "\uac00\u11a8", "\ud55c\uad6d\uc5b4", "\u0915\u093f", "\u0928\u092e\u0938\u094d\u0924\u0947",
               "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35", "\u0645\u0631\u062d\u0628\u0627", "\u05e9\u05dc\u05d5\u05dd",
               "\u041f\u0440\u0438\u0432\u0435\u0442", "\u039a\u03b1\u03bb\u03b7\u03bc\u03ad\u03c1\u03b1",
               "\u4f60\u597d\u4e16\u754c", "\u65e5\u672c\u8a9e", "\u3053\u3093\u306b\u3061\u306f", "\u30ab\u30bf\u30ab\u30ca",
               "\uf900", "\U0002f800", "\u0344", "\u0f73", "\u1f80\u0301", "\U0001f600", "\U0001f44d\U0001f3fd",
               "\U0001f468\u200d\U0001f469\u200d\U0001f467", "\U0001f1e9\U0001f1ea", "\u2764\ufe0f", "\u00a9\u00ae\u2122",
               "\u2211\u222b\u221a", "\u20ac100", "$5", "\u00a3", "@user", "#tag", "http://example.com/a?b=c",
               "\U00010400\U00010401", "\U0001d400\U0001d401", "\U000105c0\U000105c1", "\U00011f00", "\U0001e4d0",
               "\ue000", "\U000f0000", "\x00", "\x01", "\x7f", "\u00ad", "<|endoftext|>", "<|endoftext", "<|padding|>",
               "<mask>", "[SEP]", "caf\u00e9!", "cafe\u0301!", "<tab>\t", "...", "!!!", "?!", "--", "\u2014", "\u2026",
               "(", ")", "[", "]", "{}", "\"", "`", "``", "~", "^_^", ":-)", "\\", "/"]
    kind = rng.random()
    if kind < 0.25:
        return rng.choice(spaces) * rng.choice([1, 1, 1, 2, 3, 5])
    if kind < 0.45:
        return rng.choice(words)
    if kind < 0.55:
        return rng.choice(numbers)
    if kind < 0.9:
        return rng.choice(samples)
    while True:  # any code point of any plane except surrogates
        cp = rng.choice([rng.randrange(0x80, 0x3000), rng.randrange(0x3000, 0x10000), rng.randrange(0x10000, 0x110000)])
        if not 0xD800 <= cp <= 0xDFFF:
            return chr(cp)


def texts(shared_dir, seed, count):
    rng = random.Random(seed)
    out = ["", " ", "  ", "\n", " \n ", "a", "Hello world", "Hello  world", "Hello\t\tworld ", "<|endoftext|>",
           "a<|endoftext|>b", " <|endoftext|> ", "<|endoftext|><|endoftext|>"]
    out += brown_sentences(shared_dir, rng, count // 5)
    while len(out) < count:
        pieces = [chunk(rng) for _ in range(rng.randint(1, 14))]
        out.append("".join(p + (" " if rng.random() < 0.3 else "") for p in pieces))
    return out


def decode_cases(tok, rng, count):
    vocab_size = tok.get_vocab_size(with_added_tokens=True)
    byte_tokens = list(range(188, 256))  # single bytes 0x80-0xFF and others: partial UTF-8 characters
    cases = []
    for _ in range(count):
        ids = [rng.choice(byte_tokens) if rng.random() < 0.4 else rng.randrange(vocab_size) for _ in range(rng.randint(1, 8))]
        cases.append(ids)
    return cases


def write_vectors(tok, name, strings, rng):
    with open(os.path.join(HERE, name + "_vectors.jsonl"), "w", encoding="utf-8") as f:
        for text in strings:
            f.write(json.dumps({"text": text, "ids": tok.encode(text).ids}, ensure_ascii=True) + "\n")
        for ids in decode_cases(tok, rng, 200):
            f.write(json.dumps({"decode": ids, "text": tok.decode(ids, skip_special_tokens=False)}, ensure_ascii=True) + "\n")


def main():
    shared_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "..", "shared")
    gpt2_dir = os.path.join(shared_dir, "data", "gpt2")
    base = base_tokenizer(gpt2_dir)
    base_json = json.loads(base.to_str())
    with open(os.path.join(HERE, "gpt2_tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(base.to_str())
    rng = random.Random(8)
    write_vectors(base, "gpt2", texts(shared_dir, 1, 2000), rng)
    for name, build, count, merges_as_strings in [("neox", neox_tokenizer, 1200, True),
                                                  ("prefix", prefix_tokenizer, 400, False)]:
        variant = json.loads(build(gpt2_dir).to_str())
        assert variant["model"] == base_json["model"]
        overlay = {"replace": {k: variant[k] for k in VARIANT_KEYS}, "merges_as_strings": merges_as_strings}
        with open(os.path.join(HERE, name + "_overlay.json"), "w", encoding="utf-8") as f:
            json.dump(overlay, f, indent=1, ensure_ascii=True)
            f.write("\n")
        # The tokenizer the tests will assemble: gpt2_tokenizer.json with the overlay applied.
        assembled = copy.deepcopy(base_json)
        assembled.update(overlay["replace"])
        if merges_as_strings:
            assembled["model"]["merges"] = [" ".join(m) for m in assembled["model"]["merges"]]
        write_vectors(Tokenizer.from_str(json.dumps(assembled)), name, texts(shared_dir, len(name), count), rng)


if __name__ == "__main__":
    main()
