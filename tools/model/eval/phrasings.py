"""Phrasing probe: customer messages worded outside the corpus's templates, under the README's support prompt.

The held-out evaluation (eval.py) words its questions as the corpus generator does. A model can score well there
and still fail a customer who gives a name before the question ("This is Rosa. Where is order 5037655?") or an
address mid-sentence; this probe asks such phrasings, each with several names, order numbers and addresses, and
counts per phrasing the replies that carry what they must (the order number, the address, "English"), none of
what they must not (a refund for a status question, tool-call text in a reply), and stop by themselves.

  PROBE=phrasings tools/model/eval/run-eval.sh MODEL_DIR|bundled [--fills N] [--out FILE]
"""
import argparse
import json
import os
import random

from .eval import post

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
NAMES = ["Bastian", "Ingrid", "Marek", "Sofia", "Kenji", "Rosa", "Amara", "Tomasz", "Leila", "Felix"]
EMAILS = ["kofi.mensah@zoulen.io", "nina.park@fastmail.com", "tomas.varga@quillo.net", "priya_88@hey.com",
          "oscar.lind@mailbox.org", "jane.doe@gmail.com", "li.wei@proton.me", "marta_k@web.de",
          "sam.okafor@outlook.com", "eva77@gmx.net"]
LEAKS = ["<tool_call>", "</tool_call>", '"}}', "<|im_"]  # template text that must never reach a reply

# (phrasing, what the reply must contain, what it must not); {order}, {name}, {email} are filled per ask
STATUS = ("{order}",), ("refund",)
RESET = ("{email}", "reset"), ()
LANGUAGE = ("english",), ()
PHRASINGS = [
    ("Where is my order {order}?", *STATUS),
    ("Where is order {order}?", *STATUS),
    ("This is {name}. Where is my order {order}?", *STATUS),
    ("This is {name}. Where is order {order}?", *STATUS),
    ("Hi, I'm {name}. Where is order {order}?", *STATUS),
    ("Where is my order {order}? I'm {name}.", *STATUS),
    ("{name} here, my order {order} has not arrived yet.", *STATUS),
    ("Please reset my password, my e-mail is {email}", *RESET),
    ("I can't log in. My account e-mail is {email}.", *RESET),
    ("Send me a password reset link at {email} please.", *RESET),
    ("Hi, I'm {name}. Please reset my password, my e-mail is {email}", *RESET),
    ("Wo ist meine Bestellung?", *LANGUAGE),
    ("Où est ma commande ?", *LANGUAGE),
    ("¿Dónde está mi pedido?", *LANGUAGE),
    ("Dov'è il mio ordine?", *LANGUAGE),
    ("Ich möchte mein Passwort zurücksetzen.", *LANGUAGE),
    ("Je voudrais retourner un article.", *LANGUAGE),
    ("Mijn pakket is niet aangekomen.", *LANGUAGE),
    ("Onde está o meu pedido?", *LANGUAGE),
]


def ask(url, system, question, max_tokens):
    choice = post(url, {"temperature": 0, "max_tokens": max_tokens,
                        "messages": [{"role": "system", "content": system},
                                     {"role": "user", "content": question}]}, timeout=300)["choices"][0]
    return choice["message"].get("content") or "", choice["finish_reason"]


def judge(reply, finish, must, must_not):
    lower = reply.lower()
    return (finish == "stop" and all(m.lower() in lower for m in must)
            and not any(m.lower() in lower for m in must_not) and not any(leak in reply for leak in LEAKS))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default="http://localhost:8080")
    ap.add_argument("--system", default=os.path.join(ROOT, "docs", "examples", "support-prompt.txt"))
    ap.add_argument("--fills", type=int, default=6, help=f"asks per phrasing with a placeholder, at most {len(NAMES)}")
    ap.add_argument("--max-tokens", type=int, default=100)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--out", default=None, help="write every ask and reply here (JSON)")
    a = ap.parse_args()
    with open(a.system, encoding="utf-8") as f:
        system = f.read()
    r = random.Random(a.seed)
    rows = []
    for phrasing, must, must_not in PHRASINGS:
        fills = a.fills if "{" in phrasing else 1
        right = 0
        for name, email in zip(r.sample(NAMES, fills), r.sample(EMAILS, fills)):
            values = {"order": str(r.randint(1_000_000, 9_999_999)), "name": name, "email": email}
            question = phrasing.format(**values)
            reply, finish = ask(a.url, system, question, a.max_tokens)
            ok = judge(reply, finish, [m.format(**values) for m in must], must_not)
            right += ok
            rows.append({"question": question, "reply": reply, "finish": finish, "ok": ok})
        print(f"{right}/{fills}  {phrasing}", flush=True)
    print(f"{sum(row['ok'] for row in rows)}/{len(rows)} replies right")
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
