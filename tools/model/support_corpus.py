"""Template-based generator of customer-support dialogues (fully synthetic, deterministic by seed).

Intents: order status, refunds, returns, shipping/delivery delays, password reset, account access,
billing and double charges, subscription cancellation, damaged items, wrong items, address
changes, and escalation to a human agent.  Each dialogue is rendered with the ChatML chat
template (system prompt + user/assistant turns) and written as JSONL {"text": ..., "intent": ...}.
"""
import argparse
import json
import random

from bpe_tokenizer import DEFAULT_SYSTEM, apply_chat_template

PRODUCTS = [
    "wireless mouse", "mechanical keyboard", "laptop stand", "USB-C charger", "phone case",
    "bluetooth speaker", "noise cancelling headphones", "smart watch", "fitness tracker",
    "coffee maker", "electric kettle", "blender", "air fryer", "desk lamp", "office chair",
    "backpack", "running shoes", "winter jacket", "yoga mat", "water bottle", "camping tent",
    "sleeping bag", "gaming monitor", "webcam", "external hard drive", "memory card",
    "tablet", "e-reader", "printer", "ink cartridge", "vacuum cleaner", "robot vacuum",
    "toaster", "frying pan", "knife set", "bed sheets", "pillow", "throw blanket",
    "table lamp", "wall clock", "picture frame", "dining chair", "bookshelf", "rice cooker",
    "hair dryer", "electric toothbrush", "baby monitor", "dog bed", "cat tree", "garden hose",
    "power drill", "tool kit", "bike helmet", "sunglasses", "wrist watch", "leather wallet",
    "travel mug", "kitchen scale", "space heater", "desk fan",
]
FIRST_NAMES = [
    "Anna", "Ben", "Carla", "David", "Emma", "Farid", "Grace", "Hiro", "Isabel", "Jonas",
    "Karen", "Liam", "Maria", "Noah", "Olivia", "Pedro", "Quinn", "Rosa", "Sam", "Tara",
    "Umar", "Vera", "Will", "Xenia", "Yusuf", "Zoe", "Alex", "Priya", "Mei", "Tom",
    "Lucas", "Sofia", "Daniel", "Chloe", "Mateo", "Leila", "Oscar", "Nina", "Ivan", "Elena",
]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
CARRIERS = ["UPS", "FedEx", "DHL", "USPS"]
PLANS = ["Premium", "Plus", "Pro", "Family", "Basic", "Gold"]
CARDS = ["Visa", "Mastercard", "debit card", "credit card", "PayPal account"]
DOMAINS = ["gmail.com", "outlook.com", "yahoo.com", "mail.com", "proton.me"]


class Slots:
    def __init__(self, r: random.Random):
        self.r = r
        self.product = r.choice(PRODUCTS)
        self.product2 = r.choice([p for p in PRODUCTS if p != self.product])
        self.name = r.choice(FIRST_NAMES)
        self.order = str(r.randint(100000, 999999))
        self.date = f"{r.choice(MONTHS)} {r.randint(1, 28)}"
        self.amount = f"${r.randint(5, 400)}.{r.choice(['00', '49', '95', '99', str(r.randint(10, 98))])}"
        self.carrier = r.choice(CARRIERS)
        self.plan = r.choice(PLANS)
        self.card = r.choice(CARDS)
        self.email = f"{self.name.lower()}{r.randint(1, 99)}@{r.choice(DOMAINS)}"
        self.days = r.randint(2, 14)
        self.ticket = str(r.randint(10000, 99999))

    def fill(self, s: str) -> str:
        return s.format(**self.__dict__)


def pick(r, xs):
    return r.choice(xs)


GREET = ["", "", "", "Hi, ", "Hello, ", "Hey, ", "Hi there, ", "Good morning, ", "Hello! "]
SIGN = ["", "", "", "", " Thanks.", " Thanks!", " Thank you.", " Please help."]


def user_msg(r, slots, options):
    base = slots.fill(pick(r, options))
    g = pick(r, GREET)
    if g:
        base = base[0].lower() + base[1:] if not base.startswith("I ") and not base.startswith("I'") else base
        base = g + base
    return base + pick(r, SIGN)


# each intent: (user templates, assistant templates); {…} are slots
INTENTS = {
    "order_status": (
        ["Where is my order {order}?", "Can you tell me the status of order {order}?",
         "I ordered a {product} and want to know when it will arrive. The order number is {order}.",
         "What's the status of my {product} order? Order number {order}.",
         "Has my order {order} shipped yet?", "I'd like an update on order {order} for a {product}.",
         "When will my {product} arrive? My order number is {order}."],
        ["Thanks for your message. Your order {order} for the {product} has shipped with {carrier} and is on its way. "
         "You can follow it any time on the Orders page of your account, and you will get an email when it is delivered.",
         "I checked order {order}. The {product} has left our warehouse with {carrier}, and delivery usually takes 3 to 5 "
         "business days. The tracking link is on the Orders page of your account.",
         "Good news: order {order} for your {product} has shipped. It is with {carrier} now, and you can track it from "
         "the Orders page. Let me know if it has not arrived within 5 business days."],
    ),
    "shipping_delay": (
        ["My package is late. It was supposed to arrive on {date} and it's still not here. Order {order}.",
         "Order {order} hasn't arrived yet and the delivery date was {date}.",
         "Why is my {product} delayed? The order number is {order}.",
         "The tracking for order {order} hasn't moved in {days} days.",
         "My delivery is late. I was told the {product} would come on {date}.",
         "It's been {days} days and my order {order} still hasn't arrived."],
        ["I'm sorry your order {order} is late. I have opened a trace with the carrier, and you will get an update by "
         "email within 24 hours. If the package does not arrive in the next 3 business days, we will send a "
         "replacement or give you a full refund.",
         "I'm sorry for the delay with order {order}. Some deliveries are running behind this week. I have asked the "
         "carrier to check the package, and if it has not arrived within 3 business days we will ship a new one at "
         "no cost to you.",
         "Sorry about the wait. I looked into order {order} and the package is delayed in transit. I have flagged it "
         "with the carrier, and if it is not delivered within 3 business days, reply here and we will send a "
         "replacement or a full refund, whichever you prefer."],
    ),
    "refund_status": (
        ["I returned the {product} last week. When will I get my refund?",
         "Where is my refund for order {order}?", "I still haven't received my refund for order {order}.",
         "How long does a refund take? I sent back the {product}.",
         "When will I see the {amount} refund for order {order} on my card?",
         "I was promised a refund of {amount} for the {product} but nothing has arrived."],
        ["Refunds are sent to your original payment method within 5 to 7 business days after we receive the "
         "returned item. I can see the return for order {order} is being processed, and you will get an email as "
         "soon as the refund is issued.",
         "Thanks for your patience. Once we receive the returned item, the refund goes back to your original "
         "payment method within 5 to 7 business days. I have checked order {order} and the refund is on its way; "
         "your bank may take a few extra days to show it.",
         "I'm sorry for the wait. Your refund for order {order} has been approved and will reach your original "
         "payment method within 5 to 7 business days. You will get a confirmation email when it is sent."],
    ),
    "return_request": (
        ["How do I return the {product}?", "I want to return my {product}. Order {order}.",
         "Can I send back the {product}? It doesn't fit my needs.", "What is your return policy?",
         "I'd like to return order {order}, I changed my mind.",
         "The {product} is not what I expected. How can I return it?"],
        ["You can return the {product} within 30 days of delivery. Go to the Orders page, choose order {order}, and "
         "select Return item. We will email you a prepaid shipping label, and your refund is issued within 5 to 7 "
         "business days after the item arrives at our warehouse.",
         "Returns are free within 30 days of delivery. Open the Orders page in your account, pick the {product}, "
         "and click Return item to get a prepaid label. Once we receive it, the refund goes back to your original "
         "payment method within 5 to 7 business days.",
         "No problem. Items can be returned within 30 days of delivery. Start the return from the Orders page by "
         "selecting Return item, print the prepaid label we email you, and drop the package off with any carrier "
         "location. You will get your refund within 5 to 7 business days after we receive it."],
    ),
    "damaged_item": (
        ["My {product} arrived damaged.", "The {product} I received is broken. Order {order}.",
         "The box was crushed and the {product} inside is cracked.",
         "I just got my order {order} and the {product} doesn't work.",
         "My {product} came with a broken part. What can I do?"],
        ["I'm very sorry your {product} arrived damaged. We will send you a free replacement right away, and you do "
         "not need to return the broken item. Could you reply with a photo of the damage so I can add it to order "
         "{order}?",
         "I'm sorry about that. A damaged {product} is not the experience we want for you. I can send a replacement "
         "at no cost or give you a full refund, whichever you prefer. Please send a photo of the damage and let me "
         "know which option you would like.",
         "Sorry to hear the {product} arrived broken. I have started a replacement for order {order}, and it will "
         "ship within 2 business days. You can keep or recycle the damaged item; there is no need to send it back."],
    ),
    "wrong_item": (
        ["I ordered a {product} but received a {product2}.", "You sent me the wrong item. Order {order}.",
         "Order {order} contained a {product2} instead of the {product} I ordered.",
         "I got someone else's package, it's a {product2} not my {product}."],
        ["I'm sorry you received a {product2} instead of your {product}. I have shipped the correct {product} today "
         "at no cost, and we will email you a prepaid label to send the {product2} back.",
         "Apologies for the mix-up with order {order}. The correct {product} is on its way, and you will receive a "
         "prepaid return label for the {product2} by email. You won't be charged anything extra."],
    ),
    "password_reset": (
        ["I forgot my password.", "I can't log in to my account, I forgot my password.",
         "How do I reset my password?", "The password reset email never arrived.",
         "I need to reset my password but I don't remember it.", "My password isn't working anymore."],
        ["You can reset your password from the sign-in page: click Forgot password, enter the email address on "
         "your account, and we will send you a reset link that is valid for 1 hour. If the email does not arrive "
         "within a few minutes, please check your spam folder.",
         "No problem. Go to the sign-in page and choose Forgot password. Enter your account email, and you will get "
         "a link to set a new password. The link expires after 1 hour, so use it soon, and check your spam folder "
         "if you don't see it.",
         "I can help with that. On the sign-in page, select Forgot password and enter your email address. We will "
         "send a reset link right away. If it still doesn't arrive after 10 minutes, reply here and I will send it "
         "manually."],
    ),
    "account_locked": (
        ["My account is locked.", "I entered the wrong password too many times and now I'm locked out.",
         "I can't access my account, it says it is locked.", "Why was my account locked?"],
        ["For your security, accounts are locked for 30 minutes after several failed sign-in attempts. After that "
         "you can try again, or use Forgot password on the sign-in page to set a new password right away.",
         "I'm sorry for the trouble. Your account was locked after too many failed sign-in attempts to keep it "
         "safe. It will unlock automatically in 30 minutes, or you can reset your password now with the Forgot "
         "password link on the sign-in page."],
    ),
    "change_email": (
        ["How do I change the email on my account?", "I want to update my email address to {email}.",
         "Can you change my account email to {email}?"],
        ["You can change your email address under Account settings, then Personal details. Enter the new address "
         "and confirm it with the link we send to {email}. Your order history stays the same.",
         "To update your email, open Account settings and choose Personal details. After you save the new address, "
         "we will send a confirmation link to it, and the change takes effect once you click it."],
    ),
    "double_charge": (
        ["I was charged twice for order {order}.", "I see two charges of {amount} on my card for the same order.",
         "Why was I billed twice? Order {order}, {amount} each time.",
         "My {card} shows a double charge of {amount}.",
         "You charged me two times for my {product}."],
        ["I'm sorry about the double charge. I checked order {order} and see two payments of {amount}. I have "
         "refunded the duplicate payment, and it will appear on your {card} within 3 to 5 business days.",
         "Thanks for letting us know. Sometimes a payment is authorized twice, and the extra hold drops off within "
         "3 to 5 business days. I have confirmed that only one payment of {amount} was captured for order {order}; "
         "if the second charge is still there after 5 days, reply here and I will refund it right away.",
         "Sorry for the trouble. I can see the duplicate charge of {amount} for order {order}. I have issued a "
         "refund for the extra payment, and you will get a confirmation email. It can take 3 to 5 business days to "
         "show on your statement."],
    ),
    "billing_question": (
        ["Why was I charged {amount}?", "I don't recognize a charge of {amount} on my {card}.",
         "There's a charge of {amount} on my statement from you. What is it for?",
         "Can you explain the {amount} charge on my account?"],
        ["The charge of {amount} is most likely your {plan} subscription renewal or a recent order. You can see "
         "every charge with its order number under Account settings, then Billing history. If you still don't "
         "recognize it, reply here and I will look into it.",
         "I understand the concern. Charges of {amount} usually match an order or a subscription renewal. Please "
         "open Billing history in your account settings to see the details. If the charge does not match anything "
         "there, let me know and I will open an investigation right away."],
    ),
    "cancel_subscription": (
        ["How do I cancel my subscription?", "I want to cancel my {plan} subscription.",
         "Please cancel my {plan} plan.", "How can I stop my subscription from renewing?",
         "I don't want to be charged again for {plan}. How do I cancel?"],
        ["You can cancel your {plan} subscription at any time under Account settings, then Subscriptions, and "
         "click Cancel subscription. You keep access until the end of the current billing period, and you will "
         "not be charged again.",
         "I'm sorry to see you go. To cancel, open Account settings, choose Subscriptions, and select Cancel "
         "subscription. Your {plan} benefits stay active until the end of this billing period, and no further "
         "payments will be taken.",
         "Sure. I can confirm how it works: go to Account settings, then Subscriptions, and click Cancel "
         "subscription. The {plan} plan stops renewing right away, and you keep access until the end of the "
         "period you already paid for."],
    ),
    "change_address": (
        ["Can I change the shipping address for order {order}?", "I need to update the delivery address on my order.",
         "I moved. How do I change the address for order {order}?"],
        ["If order {order} has not shipped yet, you can change the address on the Orders page by choosing Edit "
         "shipping address. If it has already shipped, I can ask {carrier} to redirect the package; just reply with "
         "the new address.",
         "I can help with that. Orders can be edited until they ship: open the Orders page, select order {order}, "
         "and click Edit shipping address. If the button is gone, the package is already on its way, and I will "
         "ask the carrier to redirect it."],
    ),
    "escalation": (
        ["I want to talk to a human.", "Can I speak to a real person?", "Let me talk to a manager.",
         "This is not helping. I need a human agent.", "Please transfer me to a person.",
         "I've asked three times already, get me a supervisor."],
        ["I understand. I'm transferring you to a human agent now. Your ticket number is {ticket}, and an agent "
         "will join this chat in a few minutes. They will be able to see everything we discussed.",
         "Of course. I have escalated your request to our support team, ticket {ticket}. A human agent will reply "
         "within a few minutes during business hours, and you don't need to repeat your details.",
         "I'm sorry this has been frustrating. I'm connecting you with a human agent right away. Your ticket number "
         "is {ticket}, so you can refer to it at any time."],
    ),
}

FOLLOW_UPS = [
    (["Thanks!", "Thank you, that helps.", "Great, thanks for your help.", "OK, thank you.", "Perfect, thanks."],
     ["You're welcome! Is there anything else I can help you with?",
      "Happy to help. Have a great day!", "You're welcome. Let me know if you need anything else."]),
    (["Can I talk to a human instead?", "I'd still like to speak to a person."],
     ["Of course. I'm transferring you to a human agent now. Your ticket number is {ticket}, and an agent will "
      "join this chat in a few minutes."]),
]

ASK_ORDER = [
    "I can help with that. Could you please share your order number?",
    "Sure, I can look into it. What is the order number?",
    "I'm happy to help. Please send me your order number so I can check.",
]
GIVE_ORDER = ["It's {order}.", "Order number {order}.", "The order number is {order}.", "{order}"]


def make_dialogue(r: random.Random):
    slots = Slots(r)
    intent = r.choice(list(INTENTS))
    users, assistants = INTENTS[intent]
    msgs = []
    if r.random() < 0.15:
        msgs.append({"role": "system", "content": DEFAULT_SYSTEM})
    u = user_msg(r, slots, users)
    a = slots.fill(pick(r, assistants))
    needs_order = "{order}" in a and slots.order not in u
    if needs_order and r.random() < 0.6:
        # ask for the order number first
        msgs.append({"role": "user", "content": u})
        msgs.append({"role": "assistant", "content": pick(r, ASK_ORDER)})
        msgs.append({"role": "user", "content": slots.fill(pick(r, GIVE_ORDER))})
        msgs.append({"role": "assistant", "content": a})
    else:
        if needs_order:
            # drop order-specific wording: rephrase with the order number available in the question
            o = slots.order
            a = a.replace("our order " + o, "our order").replace("Order " + o, "Your order")
            a = a.replace("order " + o, "your order")
        msgs.append({"role": "user", "content": u})
        msgs.append({"role": "assistant", "content": a})
    if r.random() < 0.25:
        fu, fa = r.choice(FOLLOW_UPS)
        msgs.append({"role": "user", "content": pick(r, fu)})
        msgs.append({"role": "assistant", "content": slots.fill(pick(r, fa))})
    return intent, msgs


def generate(n: int, seed: int):
    r = random.Random(seed)
    for _ in range(n):
        intent, msgs = make_dialogue(r)
        yield {"intent": intent, "messages": msgs, "text": apply_chat_template(msgs)}


def main():
    ap = argparse.ArgumentParser(description="generate synthetic support dialogues (JSONL)")
    ap.add_argument("--train", type=int, default=24000)
    ap.add_argument("--heldout", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--out", required=True, help="output directory (train.jsonl, heldout.jsonl)")
    a = ap.parse_args()
    import os
    os.makedirs(a.out, exist_ok=True)
    train_texts = set()
    with open(os.path.join(a.out, "train.jsonl"), "w", encoding="utf-8") as f:
        for d in generate(a.train, a.seed):
            train_texts.add(d["text"])
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    kept = 0
    with open(os.path.join(a.out, "heldout.jsonl"), "w", encoding="utf-8") as f:
        for d in generate(a.heldout * 2, a.seed + 1):
            if d["text"] in train_texts:  # held-out dialogues never appear verbatim in training
                continue
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
            kept += 1
            if kept >= a.heldout:
                break
    print(f"train {a.train} dialogues, held-out {kept} dialogues -> {a.out}")


if __name__ == "__main__":
    main()
