"""Synthetic support traffic as the service sees it (deterministic by seed).

Every dialogue runs under an operator system prompt from a varied generator (company, products, plans,
policies, tone, escalation rules; ~20 to ~900 tokens, most 400-700), has 1-6 user turns that refer back to
earlier ones, and makes the assistant copy specifics (order numbers, e-mail addresses, product and plan names,
tool results) exactly. About half the dialogues offer tools (`lookup_order`, `start_return`,
`handoff_to_human`) in the Qwen 2.5 / Hermes format the chat template renders; the assistant then calls them
with arguments copied from the user, reads the result and answers from it. Off-topic and non-English messages
get a short redirect; angry customers are calmed first.

Held-out data (heldout.jsonl) draws companies, products, names, e-mail domains, tool descriptions and
policy phrasings from pools that training never uses.  Each line is
  {"messages": [...], "tools": [...] | null, "text": <rendered>, "checks": [...] one per assistant turn}
with checks {"kind": "reply"|"tool", "turn": index of the assistant message in "messages", "intent",
"copy": [strings the reply must contain], "tool": {...}}.
"""
import argparse
import itertools
import json
import os
import random

from .bpe_tokenizer import render_chat

# ---- pools: (train, held-out) -------------------------------------------------------------------------------
PRODUCTS = (
    ["wireless mouse", "mechanical keyboard", "laptop stand", "USB-C charger", "phone case", "bluetooth speaker",
     "noise cancelling headphones", "smart watch", "fitness tracker", "coffee maker", "electric kettle", "blender",
     "air fryer", "desk lamp", "office chair", "backpack", "running shoes", "winter jacket", "yoga mat",
     "water bottle", "camping tent", "sleeping bag", "gaming monitor", "webcam", "external hard drive",
     "tablet", "e-reader", "printer", "vacuum cleaner", "robot vacuum", "toaster", "frying pan", "knife set",
     "bed sheets", "pillow", "wall clock", "bookshelf", "rice cooker", "hair dryer", "electric toothbrush",
     "baby monitor", "dog bed", "garden hose", "power drill", "bike helmet", "sunglasses", "travel mug",
     "kitchen scale", "space heater", "desk fan", "standing desk", "floor lamp", "wool sweater", "rain boots"],
    ["espresso machine", "hiking boots", "sofa cushion", "smart thermostat", "drawing tablet", "ceiling fan",
     "massage gun", "bread maker", "duffel bag", "gaming chair", "table saw", "photo printer", "ski goggles",
     "stand mixer", "car seat", "label printer"],
)
BRAND_A = (
    ["Acme", "Northwind", "Bluebird", "Maple", "Harbor", "Summit", "Cedar", "Brightside", "Lumen", "Oakridge",
     "Riverstone", "Silverline", "Greenfield", "Redwood", "Copperleaf", "Evergreen", "Nimbus", "Polaris",
     "Starling", "Westwood", "Juniper", "Sterling", "Pinecrest", "Sunny", "Crescent", "Atlas"],
    ["Kestrel", "Marigold", "Ironbark", "Halcyon", "Bramble", "Tidewater"],
)
BRAND_B = (
    ["Home Goods", "Outfitters", "Electronics", "Kitchenware", "Supply", "Gear", "Living", "Sports", "Tech",
     "Market", "Trading", "Store", "Essentials", "Appliances", "Furniture", "Digital"],
    ["Homeware", "Mercantile", "Provisions", "Workshop"],
)
PLANS = (["Premium", "Plus", "Pro", "Family", "Basic", "Gold", "Starter", "Business", "Silver", "Unlimited"],
         ["Platinum", "Essentials", "Team", "Elite"])
NAMES = (
    ["Anna", "Ben", "Carla", "David", "Emma", "Farid", "Grace", "Hiro", "Isabel", "Jonas", "Karen", "Liam",
     "Maria", "Noah", "Olivia", "Pedro", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera", "Will", "Xenia",
     "Yusuf", "Zoe", "Alex", "Priya", "Mei", "Tom", "Lucas", "Sofia", "Daniel", "Chloe", "Mateo", "Leila"],
    ["Oscar", "Nina", "Ivan", "Elena", "Kofi", "Ingrid", "Rafael", "Aiko"],
)
DOMAINS = (["gmail.com", "outlook.com", "yahoo.com", "mail.com", "proton.me", "icloud.com", "web.de"],
           ["fastmail.com", "gmx.net", "hey.com"])
CARRIERS = ["UPS", "FedEx", "DHL", "USPS", "Royal Mail", "DPD"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
TONES = (
    ["friendly and warm", "calm and professional", "short and clear", "polite and helpful", "cheerful",
     "patient and kind"],
    ["relaxed and upbeat", "precise and courteous"],
)

ONSETS = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "tr", "st", "pl", "gr", "sh",
          "c", "h", "j", "w", "ch", "th", "dr", "fr", "kl", "sp"]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ou", "y"]
OPENING_VOWELS = ["a", "e", "i", "o", "u", "ai", "ou"]
CODAS = ["", "", "", "n", "r", "s", "x", "l", "m", "k"]


def coined(r):
    """A made-up word ("Travik", "Zoulen"): training names no pool could hold, so that a reply can only get
    them right by copying them from the conversation, not by remembering a list."""
    # a third open on a vowel: a said " Ivan" or " Elena" starts with a token as common as " I" or " E", and
    # names that always opened on a consonant left those first tokens unpractised (68 % of vowel-initial
    # specifics copied against 88 %, 2026-12-02)
    opening = r.choice(OPENING_VOWELS) if r.random() < 0.3 else ""
    syllables = r.randint(1 if opening else 2, 3)
    w = opening + "".join(r.choice(ONSETS) + r.choice(VOWELS) for _ in range(syllables)) + r.choice(CODAS)
    return w.capitalize()


def maybe_coined(r, h, pick, share):
    """In training, a coined variant of a pool pick `share` of the time; held-out names come from their pool."""
    return pick if h or r.random() >= share else coined(r)


def coined_product(r, pick):
    """"Travik kettle", and sometimes a coined noun as well ("Travik doulen"): with the pool's nouns alone the
    noun was recalled, and a held-out one came out wrong ("spermostat" for "smart thermostat")."""
    return f"{coined(r)} {pick.split()[-1] if r.random() < 0.6 else coined(r).lower()}"


def company_name(r, h):
    # the second word is coined too: from a fixed list it was recalled, never copied, and a held-out one
    # ("Marigold Workshop") made greedy replies loop on its first token ("Marigold W W W ...")
    return f"{maybe_coined(r, h, r.choice(BRAND_A[h]), 0.5)} {maybe_coined(r, h, r.choice(BRAND_B[h]), 0.3)}"


def email_domain(r, h):
    """Half the training domains are coined: from a pool of seven the model learnt to write "mail.com" for any
    address instead of copying the one the customer gave."""
    if h or r.random() >= 0.5:
        return r.choice(DOMAINS[h])
    return coined(r).lower() + r.choice([".com", ".net", ".io", ".org", ".de", ".me"])


def email_address(r, h, name):
    return f"{name}{r.choice(['', '.', '_'])}{r.choice(['', str(r.randint(1, 99))])}@{email_domain(r, h)}"


# ---- tools -------------------------------------------------------------------------------------------------
TOOL_DESCRIPTIONS = {
    "lookup_order": (["Look up an order by its order number and return its status, carrier and delivery date.",
                      "Get the current status of a customer's order.",
                      "Fetch shipping status and estimated delivery for an order."],
                     ["Return the live status of one order from the order system."]),
    "start_return": (["Start a return for an item of an order and e-mail the customer a return label.",
                      "Open a return request for a product in an order.",
                      "Create a return for one item of an order."],
                     ["Register a return for a purchased item and issue a return number."]),
    "handoff_to_human": (["Hand the conversation to a human agent, who will contact the customer by e-mail.",
                          "Escalate to a human support agent.",
                          "Transfer the customer to a person on the support team."],
                         ["Pass the customer on to a member of staff, reachable by e-mail."]),
}
TOOL_PARAMS = {
    "lookup_order": {"order_id": "The order number, digits only."},
    "start_return": {"order_id": "The order number.", "item": "The product to return, as the customer names it."},
    "handoff_to_human": {"email": "The customer's e-mail address."},
}
EXTRA_TOOLS = [  # offered now and then, never the right one in this corpus
    ("update_address", "Change the delivery address of an order that has not shipped yet.",
     {"order_id": "The order number.", "address": "The new address."}),
    ("check_stock", "Check whether a product is in stock.", {"product": "The product name."}),
]


def tool_schema(name, description, params):
    return {"type": "function", "function": {
        "name": name, "description": description,
        "parameters": {"type": "object",
                       "properties": {k: {"type": "string", "description": v} for k, v in params.items()},
                       "required": list(params)}}}


# ---- system prompts ----------------------------------------------------------------------------------------
class World:
    """One operator: company, products, plans and policies; the system prompt is written from it."""

    def __init__(self, r, h):
        self.company = company_name(r, h)
        self.slug = self.company.split()[0].lower()
        self.products = [p if h or r.random() < 0.5 else coined_product(r, p)
                         for p in r.sample(PRODUCTS[h], r.randint(4, 9))]
        self.plans = [maybe_coined(r, h, p, 0.3) for p in r.sample(PLANS[h], 3)]
        self.return_days = r.choice([14, 30, 60, 90])
        self.refund_days = r.choice([3, 5, 7, 10])
        self.support_email = f"{r.choice(['help', 'support', 'care', 'service'])}@{self.slug}.com"
        self.hours = r.choice(["9am to 5pm", "8am to 8pm", "10am to 6pm", "7am to 7pm"])
        self.days_of_week = r.choice(["Monday to Friday", "Monday to Saturday", "every day"])
        self.tone = r.choice(TONES[h])
        self.free_ship = r.choice([25, 35, 50, 75])
        self.bot = r.choice(["Max", "Ava", "Kai", "Lena", "Robin", "Sky", "Nova", "Milo"])

    def system_prompt(self, r, target_words):
        c = self.company
        intro = r.choice([
            f"You are {self.bot}, the customer support assistant of {c}.",
            f"You are the support assistant for {c}.",
            f"You work in customer support at {c} and answer customers in the chat on our website.",
            f"You are {c}'s virtual support agent.",
        ])
        if target_words < 40:
            return intro + r.choice(["", f" Be {self.tone}.", " Keep answers short.",
                                     f" Help customers with orders, returns and accounts."])
        sections = [
            f"{c} sells " + ", ".join(self.products[:-1]) + f" and {self.products[-1]} online. "
            f"Customers write to you about orders, deliveries, returns, refunds, billing and their account.",
            f"Tone: be {self.tone}. Use the customer's name if they give it. Keep replies to two or three "
            "sentences unless the customer asks for detail. Never make up order details.",
            f"Returns: items can be returned within {self.return_days} days of delivery if they are unused and in "
            f"the original packaging. A return label is sent by e-mail. Damaged or wrong items can always be "
            f"returned for free.",
            f"Refunds: refunds go back to the original payment method within {self.refund_days} business days "
            "after the returned item arrives at our warehouse.",
            f"Shipping: orders over ${self.free_ship} ship for free. Standard delivery takes 3 to 5 business days. "
            "We ship with " + " and ".join(r.sample(CARRIERS, 2)) + ". Tracking is on the Orders page.",
            f"Plans: the {self.plans[0]} plan, the {self.plans[1]} plan and the {self.plans[2]} plan. "
            "Customers can change or cancel a plan at any time under Account > Plan; a cancelled plan stays "
            "active until the end of the billing period.",
            f"Escalation: if a customer asks for a person, is very upset, or reports a billing dispute, offer to "
            f"hand them to a human agent. Human agents work {self.days_of_week}, {self.hours}, and can also be "
            f"reached at {self.support_email}.",
            "Accounts: for password problems, send a reset link to the e-mail address on the account. Never ask "
            "for a password or full card number.",
            f"Scope: only help with {c} orders, products and accounts. If a customer asks about something else, "
            "politely say that you can only help with questions about their orders and account. Answer in "
            "English; if a customer writes in another language, say kindly that you can only help in English.",
            "Specifics: always repeat order numbers, e-mail addresses, product and plan names exactly as the "
            "customer wrote them, so that the customer can check them.",
        ]
        faq = [
            "Q: Can I change my delivery address? A: Yes, until the order ships, under Orders > Change address.",
            "Q: Do you ship abroad? A: We ship to most countries in Europe and North America.",
            "Q: Can I pay later? A: We accept cards, PayPal and bank transfer; there is no pay-later option.",
            "Q: Do you offer gift wrapping? A: Yes, for a small fee at checkout.",
            "Q: How do I use a discount code? A: Enter it in the basket before you pay; one code per order.",
            "Q: Are the products covered by a warranty? A: Yes, for two years from the date of delivery.",
            "Q: Can I cancel an order? A: Yes, until it ships, from the Orders page.",
            "Q: Where is my invoice? A: Invoices are attached to the shipping confirmation e-mail.",
            "Q: Do you have a store? A: No, we only sell online.",
            "Q: Can I exchange an item? A: Return it and place a new order; the refund follows as usual.",
        ]
        catalog = [f"- {p}: in stock, ships in {r.randint(1, 3)} business days, {r.randint(1, 3)}-year warranty."
                   for p in self.products]
        r.shuffle(sections)
        parts = [intro]
        words = len(intro.split())
        extra = [("Products:\n" + "\n".join(catalog))] + ["Frequently asked questions:\n" + "\n".join(
            r.sample(faq, r.randint(4, len(faq))))]
        for s in sections + extra + ["Frequently asked questions (more):\n" + "\n".join(r.sample(faq, 6))]:
            if words >= target_words:
                break
            parts.append(s)
            words += len(s.split())
        return "\n\n".join(parts)


# ---- dialogue pieces ---------------------------------------------------------------------------------------
GREET = ["", "", "", "Hi, ", "Hello, ", "Hey, ", "Hi there, ", "Good morning, "]
# Off-topic and non-English asks in training come from many subjects and sentences, so that a redirect is learnt
# for "not about this shop" and "not English" rather than for ten memorised sentences. The held-out asks keep
# subjects (another shop's phones, translation, pets) and sentences that no training ask has.
OFF_TOPIC = ["What's the weather like tomorrow?", "Can you write me a poem about the sea?",
             "Who won the football game last night?", "What is the capital of Australia?",
             "Can you help me with my math homework?", "Tell me a joke.", "What should I cook for dinner?",
             "Can you recommend a good movie?", "How do I fix my car's engine?", "What do you think about politics?",
             "How far away is the moon?", "Who wrote Hamlet?", "What time is it in Tokyo?",
             "Is it going to rain this weekend?", "What's the meaning of life?", "Can you sing me a song?",
             "How many calories are in a banana?", "Who is the best tennis player ever?",
             "Why is the sky blue?", "What's a good book to read on holiday?"]
OFF_TOPIC_FRAMES = ["Can you help me with {}?", "Could you explain {} to me?", "I need some advice on {}.",
                    "Do you have any tips for {}?", "What do you know about {}?", "Any ideas for {}?",
                    "Can you tell me more about {}?", "I have a question about {}."]
OFF_TOPIC_SUBJECTS = ["my history essay", "a birthday party", "my tax return", "learning the guitar",
                      "the Roman empire", "a trip to Lisbon", "my cover letter", "a healthy diet", "the stock market",
                      "a wedding speech", "the rules of chess", "growing tomatoes", "the election",
                      "a good workout", "baking sourdough", "a crossword clue", "sleeping better", "the offside rule",
                      "black holes", "knitting a scarf", "a road trip", "a job interview", "painting my bedroom",
                      "quantum physics", "my chemistry exam", "the best pizza in town", "climbing mountains",
                      "saving for a house", "a science project", "my fantasy football team", "the solar system",
                      "writing a novel", "learning to swim", "the Olympic games", "a camping recipe",
                      "my neighbour's noisy party", "the train timetable", "a dentist appointment",
                      "the French revolution", "meditation"]
OFF_TOPIC_HO = ["Which phone should I buy from another shop?", "Can you translate a letter for me?",
                "What's a good name for my cat?"]
FOREIGN = ["Wo ist meine Bestellung? Ich warte schon seit einer Woche.", "Ich möchte mein Geld zurück.",
           "¿Dónde está mi pedido?", "Quiero devolver un producto.", "Où est ma commande ?",
           "Je voudrais un remboursement.", "Dov'è il mio ordine?", "Waar is mijn bestelling?",
           "Kann ich mit jemandem sprechen?", "Mi pedido llegó roto.",
           "Meine Lieferung ist beschädigt.", "Wann kommt mein Paket?", "Können Sie mir bitte helfen?",
           "Ich habe eine Frage zu meiner Rechnung.", "Wie kann ich etwas zurückschicken?",
           "Mon colis est arrivé cassé.", "Quand est-ce que ma commande arrive ?", "Pouvez-vous m'aider ?",
           "J'ai oublié mon mot de passe.", "¿Cuándo llega mi paquete?", "Quiero hablar con una persona.",
           "No puedo entrar en mi cuenta.", "Vorrei un rimborso.", "Il mio pacco è arrivato rotto.",
           "Posso parlare con qualcuno?", "Ik wil mijn geld terug.", "Kunt u mij helpen?",
           "Quero devolver um produto.", "Gdzie jest moje zamówienie?", "Chcę zwrócić produkt.",
           "Var är min beställning?", "Siparişim nerede?", "Hvor er min ordre?", "Missä tilaukseni on?"]
FOREIGN_HO = ["Hallo, mein Paket ist nicht angekommen.", "Bonjour, je veux annuler mon abonnement.",
              "Hola, necesito ayuda con mi cuenta."]
ANGRY = ["This is ridiculous!", "I am really angry.", "This is the worst service ever!", "Unbelievable.",
         "I'm so fed up with this!", "Seriously, this is a joke!", "I've had enough."]


def off_topic_ask(r):
    """A training off-topic ask: a whole question, or a frame around a subject (20 + 320 in all)."""
    if r.random() < 0.3:
        return r.choice(OFF_TOPIC)
    return r.choice(OFF_TOPIC_FRAMES).format(r.choice(OFF_TOPIC_SUBJECTS))


class Dialog:
    def __init__(self, r, h, world, tools_on, contacts_in_prompt):
        self.r, self.h, self.w = r, h, world
        self.tools_on = tools_on
        self.contacts_in_prompt = contacts_in_prompt  # whether a reply may name the human team's hours and address
        self.name = maybe_coined(r, h, r.choice(NAMES[h]), 0.5) if r.random() < 0.5 else None
        self.said_name = None  # replies use the name only once the customer said it, or they teach inventing one
        self.order = str(r.randint(100000, 9999999))
        self.product = r.choice(world.products)
        self.plan = r.choice(world.plans)
        self.email = email_address(r, h, (self.name or maybe_coined(r, h, r.choice(NAMES[h]), 0.5)).lower())
        self.msgs, self.checks = [], []
        self.angry = False

    def user(self, text):
        r = self.r
        g = r.choice(GREET)
        if self.name and not self.msgs and r.random() < 0.5:
            text = f"{text} I'm {self.name}." if r.random() < 0.5 else f"This is {self.name}. {text}"
            self.said_name = self.name
        if g and not self.msgs:
            text = g + text[0].lower() + text[1:] if not text.startswith("I ") else g + text
        self.msgs.append({"role": "user", "content": text})

    def turn(self):
        """The index of the last message in the dialogue's "messages", which start with the system turn."""
        return len(self.msgs)

    def say(self, text, intent, copy=()):
        who = f", {self.said_name}" if self.said_name and self.r.random() < 0.3 else ""
        text = text.replace("{who}", who)
        self.msgs.append({"role": "assistant", "content": text})
        self.checks.append({"kind": "reply", "turn": self.turn(), "intent": intent,
                            "copy": [c for c in copy if c]})

    def call(self, name, args, result, intent):
        self.msgs.append({"role": "assistant", "content": "",
                          "tool_calls": [{"type": "function", "function": {"name": name, "arguments": args}}]})
        self.checks.append({"kind": "tool", "turn": self.turn(), "intent": intent,
                            "tool": {"name": name, "arguments": args}, "copy": []})
        self.msgs.append({"role": "tool", "content": json.dumps(result)})

    # -- intents: each adds its turns ------------------------------------------------------------------------
    def order_status(self):
        r, o = self.r, self.order
        if r.random() < 0.35:
            self.user(r.choice(["Where is my order?", "My package hasn't arrived yet.",
                                f"When will my {self.product} arrive?", "Can you check my order status?"]))
            self.say(r.choice(["I can check that for you{who}. What is your order number?",
                               "Sure{who}, could you give me the order number?",
                               "Of course. Please share your order number and I will look it up."]),
                     "ask_order")
            self.user(r.choice([f"It's {o}.", f"Order number {o}.", f"{o}", f"The number is {o}, thanks."]))
        else:
            self.user(r.choice([f"Where is my order {o}?", f"Can you tell me the status of order {o}?",
                                f"Has my order {o} shipped yet?", f"My {self.product} hasn't arrived. Order {o}.",
                                f"I'd like an update on order {o} for a {self.product}.",
                                f"When will order {o} arrive?", f"Order #{o} - where is it?"]))
        if self.tools_on:
            status = r.choice(["shipped", "processing", "delivered", "delayed"])
            carrier, eta = r.choice(CARRIERS), f"{r.choice(MONTHS)} {r.randint(1, 28)}"
            res = {"order_id": o, "status": status, "carrier": carrier, "eta": eta}
            self.call("lookup_order", {"order_id": o}, res, "order_status")
            text = {
                "shipped": f"Your order {o} has shipped with {carrier} and should arrive on {eta}.",
                "processing": f"Your order {o} is still being prepared; it should reach you by {eta}.",
                "delivered": f"Order {o} was delivered by {carrier} on {eta}. If you can't find it, let me know.",
                "delayed": f"I'm sorry{{who}}, order {o} is delayed with {carrier}. The new delivery date is {eta}.",
            }[status]
            self.say(text, "order_status", [o, eta])
        else:
            self.say(r.choice([
                f"Thanks{{who}}. Order {o} is on its way; you can follow it on the Orders page, and you will get "
                "an e-mail when it is delivered.",
                f"I've checked order {o}. It has left our warehouse and delivery takes 3 to 5 business days. The "
                "tracking link is on the Orders page.",
                f"Your order {o} has shipped. You can track it on the Orders page of your account."]),
                "order_status", [o])

    def returns(self):
        r, o, p = self.r, self.order, self.product
        if r.random() < 0.4:
            self.user(r.choice([f"I want to return my {p}.", f"How do I return the {p}?",
                                f"The {p} doesn't fit my needs, can I send it back?"]))
            self.say(r.choice([f"Sure{{who}}, I can help you return the {p}. What is the order number?",
                               f"Of course. Items can be returned within {self.w.return_days} days. Could you "
                               f"give me the order number for the {p}?"]), "ask_order", [p])
            self.user(r.choice([f"It's order {o}.", f"{o}", f"The order number is {o}."]))
        else:
            self.user(r.choice([f"I want to return the {p} from order {o}.",
                                f"Can I send back the {p}? Order {o}.",
                                f"Order {o}: the {p} is not what I expected, I'd like to return it."]))
        if self.tools_on:
            rid = f"R-{r.randint(10000, 99999)}"
            self.call("start_return", {"order_id": o, "item": p}, {"return_id": rid, "label": "sent by e-mail"},
                      "return")
            self.say(f"I've started the return of your {p} from order {o}. Your return number is {rid}, and the "
                     f"return label is on its way to your e-mail. The refund follows within "
                     f"{self.w.refund_days} business days after the item arrives.", "return", [p, o, rid])
        else:
            self.say(r.choice([
                f"You can return the {p} within {self.w.return_days} days of delivery. Open order {o} on the "
                "Orders page and choose Return item; we will e-mail you a return label.",
                f"No problem{{who}}. To return the {p} from order {o}, go to the Orders page and select Return "
                f"item. Once it arrives, your refund is sent within {self.w.refund_days} business days."]),
                "return", [p, o])

    def refund(self):
        r, o = self.r, self.order
        self.user(r.choice([f"Where is my refund for order {o}?", f"I still haven't received my refund for order {o}.",
                            f"I returned the {self.product} last week, order {o}. When do I get my money back?"]))
        self.say(r.choice([
            f"Refunds go back to your original payment method within {self.w.refund_days} business days after the "
            f"return arrives. I can see the return for order {o} is being processed.",
            f"Thanks for your patience{{who}}. The refund for order {o} is sent within {self.w.refund_days} business "
            "days once we receive the item, and you'll get an e-mail when it is issued."]), "refund", [o])

    def damaged(self):
        r, o, p = self.r, self.order, self.product
        self.user(r.choice([f"My {p} arrived damaged. Order {o}.", f"The {p} I received is broken. Order number {o}.",
                            f"I got the wrong item instead of my {p}, order {o}."]))
        self.say(r.choice([
            f"I'm sorry the {p} arrived like that{{who}}. I've arranged a free replacement for order {o}; you will "
            "get a return label by e-mail for the one you have.",
            f"Sorry about that! For order {o} we can send a new {p} or give you a full refund, whichever you "
            "prefer. The return is free."]), "damaged", [p, o])

    def password(self):
        r, e = self.r, self.email
        if r.random() < 0.5:
            self.user(r.choice(["I forgot my password.", "I can't log in to my account.",
                                "My password reset isn't working."]))
            self.say(r.choice(["I can help with that{who}. What is the e-mail address on your account?",
                               "Sure. Which e-mail address is your account registered with?"]), "ask_email")
            self.user(r.choice([f"It's {e}.", f"{e}", f"My email is {e}"]))
        else:
            self.user(r.choice([f"I forgot my password. My email is {e}.", f"I can't log in with {e}.",
                                f"Please reset the password for {e}."]))
        self.say(r.choice([f"I've sent a password reset link to {e}. It is valid for 24 hours.",
                           f"Done{{who}}: a reset link is on its way to {e}. Check your spam folder if you don't "
                           "see it in a few minutes."]), "password", [e])

    def plan_change(self):
        r, pl = self.r, self.plan
        self.user(r.choice([f"How do I cancel my {pl} plan?", f"I want to cancel the {pl} subscription.",
                            f"Can I switch from the {pl} plan to something cheaper?",
                            f"What does the {pl} plan include?"]))
        self.say(r.choice([
            f"You can change or cancel the {pl} plan any time under Account > Plan. It stays active until the end "
            "of the current billing period.",
            f"Sure{{who}}. Go to Account > Plan to cancel or change your {pl} plan; you won't be charged again after "
            "this billing period."]), "plan", [pl])

    def human(self):
        r, e = self.r, self.email
        self.user(r.choice(["I want to talk to a human.", "Can I speak to a real person?",
                            "Please connect me with an agent.", "I need to talk to someone about a billing dispute."]))
        if self.tools_on:
            self.say(r.choice(["Of course{who}. What e-mail address can a colleague reach you at?",
                               "I can hand you to a colleague. Which e-mail address should they use?"]),
                     "ask_email")
            self.user(r.choice([f"{e}", f"Use {e} please.", f"It's {e}."]))
            ticket = str(r.randint(10000, 99999))
            self.call("handoff_to_human", {"email": e}, {"ticket": ticket, "reply_within_hours": r.choice([2, 4, 24])},
                      "human")
            self.say(f"I've passed your request to a colleague. Your ticket number is {ticket}, and they will write "
                     f"to {e} soon.", "human", [ticket, e])
        elif self.contacts_in_prompt:
            self.say(f"I understand{{who}}. Our team is available {self.w.days_of_week}, {self.w.hours}, and you can "
                     f"reach them at {self.w.support_email}.", "human", [self.w.support_email])
        else:  # a prompt cut before its escalation rules gives no contact to copy, and one made up would mislead
            self.say("I understand{who}. I can't connect you to a colleague from this chat, but our support team "
                     "can be reached through the contact page of our website.", "human")

    def off_topic(self):
        self.user(off_topic_ask(self.r) if self.h == 0 else self.r.choice(OFF_TOPIC_HO))
        self.say(self.r.choice([
            f"Sorry, I can only help with questions about your {self.w.company} orders and account.",
            f"I'm afraid I can't help with that. I'm here for questions about {self.w.company} orders, returns "
            "and accounts."]), "redirect", [self.w.company])

    def foreign(self):
        self.user(self.r.choice(FOREIGN if self.h == 0 else FOREIGN_HO))
        self.say(self.r.choice([
            "Sorry, I can only help in English. Could you write your question in English?",
            f"I'm sorry, I can only answer in English. Please write in English and I'll gladly help with your "
            f"{self.w.company} order."]), "redirect_language")

    # -- follow-ups that refer back ----------------------------------------------------------------------------
    def follow_up(self, done):
        r, o = self.r, self.order
        options = [("thanks", 3)]
        if {"order_status", "return", "refund", "damaged"} & done:
            options += [("which_order", 3), ("email_confirm", 2)]
        if any(self.product in m["content"] for m in self.msgs if m["role"] == "user"):
            options.append(("which_product", 2))  # only once said: an answer naming an unsaid item is invented
        if "password" in done:
            options.append(("which_email", 2))
        if {"order_status", "return", "refund", "damaged"} & done:
            options.append(("read_back", 3))
        kind = r.choices([k for k, _ in options], [w for _, w in options])[0]
        if kind == "thanks":
            self.user(r.choice(["Thanks!", "Thank you, that helps.", "Great, thanks.", "Ok, thank you."]))
            nm = f", {self.said_name}" if self.said_name else ""
            self.say(r.choice([f"You're welcome{nm}! Is there anything else I can help you with?",
                               f"Happy to help{nm}. Have a great day!"]), "thanks", [self.said_name])
        elif kind == "which_order":
            self.user(r.choice(["Sorry, what was my order number again?", "Which order was that again?",
                                "Can you repeat the order number?"]))
            self.say(f"Your order number is {o}.", "recall", [o])
        elif kind == "which_product":
            self.user(r.choice(["Which item was that?", "What product is in that order again?"]))
            self.say(f"That was your {self.product}, order {o}.", "recall", [self.product, o])
        elif kind == "read_back":
            # dense copying: every specific of the conversation, back in one reply
            self.user(r.choice([f"Just to be sure: order {o}, the {self.product}, and my e-mail is {self.email}?",
                                f"So that's order {o} for the {self.product}, and you have {self.email}, right?"]))
            self.say(f"Yes{{who}}: order {o}, your {self.product}, and we will write to {self.email}.", "recall",
                     [o, self.product, self.email])
        elif kind == "which_email":
            self.user(r.choice(["Which address did you send it to?", "Where did the link go?"]))
            self.say(f"The link went to {self.email}.", "recall", [self.email])
        else:
            self.user(r.choice([f"Can you send the details to {self.email}?",
                                f"Please e-mail me a confirmation at {self.email}."]))
            self.say(f"Done{{who}}: a confirmation for order {o} is on its way to {self.email}.", "confirm",
                     [o, self.email])


INTENT_WEIGHTS = [("order_status", 5), ("returns", 4), ("refund", 2), ("damaged", 2), ("password", 3),
                  ("plan_change", 2), ("human", 3), ("off_topic", 2), ("foreign", 2)]
TOOL_INTENTS = {"order_status", "returns", "human"}
DONE_NAME = {"returns": "return", "plan_change": "plan"}


def prompt_words(r):
    """Target length of the system prompt in words (~1.6 tokens each): most 400-700 tokens, some to ~900."""
    x = r.random()
    if x < 0.12:
        return r.randint(10, 30)
    if x < 0.3:
        return r.randint(40, 240)
    if x < 0.88:
        return r.randint(250, 430)
    return r.randint(440, 560)


class Operator:
    """A system prompt and its tools (or none), shared by the dialogues of one group."""

    def __init__(self, r, h):
        self.world = World(r, h)
        self.tools_on = r.random() < 0.5
        self.tools = None
        if self.tools_on:
            names = ["lookup_order", "start_return", "handoff_to_human"]
            r.shuffle(names)
            self.tools = [tool_schema(n, r.choice(TOOL_DESCRIPTIONS[n][h]), TOOL_PARAMS[n]) for n in names]
            if r.random() < 0.3:
                self.tools.insert(r.randint(0, len(self.tools)), tool_schema(*r.choice(EXTRA_TOOLS)))
        self.system = self.world.system_prompt(r, prompt_words(r))
        # the service renders tools with Jackson's compact JSON, Hugging Face with spaced JSON; learn both
        self.compact = r.random() < 0.4


def make_dialogue(r, h, op):
    d = Dialog(r, h, op.world, op.tools_on, op.world.support_email in op.system)
    n_main = r.choices([1, 2], [0.75, 0.25])[0]
    done = set()
    for k in range(n_main):
        intent = r.choices([i for i, _ in INTENT_WEIGHTS], [w for _, w in INTENT_WEIGHTS])[0]
        if k == 0 and r.random() < 0.12 and intent in ("order_status", "damaged", "refund"):
            before = len(d.msgs)
            getattr(d, intent)()
            first = d.msgs[before]
            first["content"] = r.choice(ANGRY) + " " + first["content"]
            # an angry customer's first answer opens with an apology
            for m in d.msgs[before:]:
                if m["role"] == "assistant" and m["content"]:
                    if not m["content"].startswith(("I'm sorry", "Sorry")):
                        m["content"] = "I'm sorry for the trouble, and I understand your frustration. " + m["content"]
                    break
        else:
            getattr(d, intent)()
        done.add(DONE_NAME.get(intent, intent))
    for _ in range(r.choices([0, 1, 2, 3], [0.2, 0.35, 0.3, 0.15])[0]):
        if len([m for m in d.msgs if m["role"] == "user"]) >= 6:
            break
        d.follow_up(done)
    msgs = [{"role": "system", "content": op.system}] + d.msgs
    return {"messages": msgs, "tools": op.tools, "checks": d.checks, "company": op.world.company,
            "text": render_chat(msgs, tools=op.tools, compact_tools=op.compact)}


DRILL_ASKS = ["Please note {items}.", "For your records: {items}.", "Can you repeat {items}?",
              "Let me check you have it right: {items}.", "Write this down: {items}."]
DRILL_ANSWERS = ["Noted: {items}.", "Sure: {items}.", "I have {items}.", "Got it: {items}."]


def drill_items(r):
    """Two or three specifics as a customer writes them: numbers, coined product names, e-mails, codes."""
    product = f"{coined(r)} {r.choice(PRODUCTS[0]).split()[-1]}"
    email = email_address(r, 0, coined(r).lower())
    pool = [f"order {r.randint(100000, 9999999)}", f"the {product}", f"e-mail {email}",
            f"ticket {r.randint(10000, 99999)}", f"return R-{r.randint(10000, 99999)}", f"the {coined(r)} plan"]
    items = r.sample(pool, r.randint(2, 3))
    return ", ".join(items[:-1]) + " and " + items[-1]


def make_drill(r, company):
    """A read-back drill: a short system prompt and 3-5 turns in which the assistant repeats the customer's
    specifics exactly. Dense, cheap copying practice (a support reply's hardest part) mixed into training."""
    msgs = [{"role": "system", "content": f"You are the support assistant of {company}."}]
    checks = []
    for _ in range(r.randint(3, 5)):
        items = drill_items(r)
        msgs.append({"role": "user", "content": r.choice(DRILL_ASKS).format(items=items)})
        msgs.append({"role": "assistant", "content": r.choice(DRILL_ANSWERS).format(items=items)})
        checks.append({"kind": "reply", "turn": len(msgs) - 1, "intent": "recall", "copy": [items]})
    return {"messages": msgs, "tools": None, "checks": checks, "company": company, "text": render_chat(msgs)}


def drills(n, seed, first_group, per_prompt):
    """n read-back drills, per_prompt under each (short) system prompt, numbered from first_group."""
    r = random.Random(seed)
    company = None
    for i in range(n):
        if i % per_prompt == 0:
            company = company_name(r, 0)
        d = make_drill(r, company)
        d["group"] = first_group + i // per_prompt
        yield d


def generate(n, seed, heldout, per_prompt=1, operator=None, dialogue=None):
    """n dialogues, per_prompt of them under each operator (consecutive lines with the same "group"); another
    corpus passes its own operator class and dialogue maker (support_corpus.py)."""
    operator, dialogue = operator or Operator, dialogue or make_dialogue
    r = random.Random(seed)
    h = 1 if heldout else 0
    op = None
    for i in range(n):
        if i % per_prompt == 0:
            op = operator(r, h)
        d = dialogue(r, h, op)
        d["group"] = i // per_prompt
        yield d


def unanswerable(d):
    """(turn, specific) for each specific a reply must copy that no source has given by then: the operator's prompt,
    the customer or a tool (not the assistant's own earlier turns), and for a recall the customer or a tool (the
    prompt's catalogue lists items, not the customer's). A reply that names it teaches the model to make it up."""
    msgs = d["messages"]
    for check in d["checks"]:
        before = msgs[:check["turn"]]
        sources = " ".join(m.get("content") or "" for m in before if m["role"] in ("system", "user", "tool"))
        said = " ".join(m.get("content") or "" for m in before if m["role"] in ("user", "tool"))
        for value in check["copy"]:
            if value not in sources or (check["intent"] == "recall" and value not in said):
                yield check["turn"], value


def main():
    ap = argparse.ArgumentParser(description="generate synthetic support traffic (JSONL)")
    ap.add_argument("--train", type=int, default=20000)
    ap.add_argument("--heldout", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--per-prompt", type=int, default=8,
                    help="training dialogues per system prompt (train.py computes a shared prompt once)")
    ap.add_argument("--drills", type=int, default=0, help="read-back drills added to the training dialogues")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for name, n, seed, ho, k in (("train", a.train, a.seed, False, a.per_prompt),
                                 ("heldout", a.heldout, a.seed + 1, True, 1)):
        dialogues = generate(n, seed, ho, k)
        if not ho:
            dialogues = itertools.chain(dialogues, drills(a.drills, seed + 2, (n + k - 1) // k, k))
        with open(os.path.join(a.out, name + ".jsonl"), "w", encoding="utf-8") as f:
            for d in dialogues:
                missing = list(unanswerable(d))
                if missing:
                    raise SystemExit(f"{name} group {d['group']}: replies copy what it never said: {missing}")
                f.write(json.dumps(d, ensure_ascii=False) + "\n")
    print(f"train {a.train} + {a.drills} drills, held-out {a.heldout} dialogues -> {a.out}")


if __name__ == "__main__":
    main()
