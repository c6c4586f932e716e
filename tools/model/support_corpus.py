"""Corpus v3: support dialogues for hundreds of kinds of business, written to train generality (issue 35).

A business is composed from parts: a sector (fiber internet, dentist, rail booking ...) and one of its offerings
make its kind; its facts table holds 8-20 typed facts (prices, fees, hours, phone, e-mail, address, durations,
limits, periods) with values of many shapes; its operator prompt renders that table in one of eight styles
(markdown table, bullets, numbered rules, prose, second person, terse key: value, Q&A, headed sections). A dialogue
asks for one fact in many phrasings (the reply names it and copies its value), for a fact the prompt does not hold
(the reply says so and copies the prompt's contact line), for something off-topic (a refusal), gives a reference
of some shape (digits, "K7QX2P", "INV-2031-88", an e-mail) that the reply repeats, and follows up on turn 1
("what was my reference again?"). Tools are named per dialogue from verb x object vocabularies
(`block_card(card_last4, reason)`), declared in the Hermes format the chat template renders, called with the
customer's own arguments among distractors; some dialogues declare tools that do not apply.

The held-out split is by kind, not by sample: HELDOUT_SECTORS (among them the four businesses of issue 35's outside
test, in the styles its prompts had), HELDOUT_STYLES and HELDOUT_VERBS / the held-out sectors' tool objects never
occur in training. Records are traffic_corpus.py's ({"messages", "tools", "text", "checks", "group", "company"})
plus "kind", "sector", "style"; a check may carry "metric" (specific, reference, recall, dont_know, refusal, tool,
no_tool) for eval/eval.py's per-metric table.
"""
import argparse
import json
import os
import random

from .bpe_tokenizer import render_chat
from . import traffic_corpus
from .traffic_corpus import (BRAND_A, NAMES, OFF_TOPIC_HO, coined, email_address, maybe_coined, off_topic_ask,
                             tool_schema, unanswerable)

# ---- sectors: name -> company words, offerings (each makes a kind), fees, durations, limits, periods, place,
# ---- tool objects. Prices, hours, phone, e-mail and address are every sector's.
SECTORS = {
    # held-out: issue 35's four outside businesses first, then four more
    "fiber internet": (["Fibre", "Broadband", "Connect", "Net"],
                       ["100 Mbit fiber", "500 Mbit fiber", "1 Gbit fiber", "fiber plus TV", "business fiber",
                        "fiber with landline"],
                       ["installation", "router rental", "early termination", "technician visit"],
                       ["installation lead time", "fault repair time"], ["data cap", "devices per router"],
                       ["minimum contract", "cancellation notice"], "shop", ["outage", "line"]),
    "bank card desk": (["Bank", "Card Services", "Credit Union"],
                       ["debit card", "credit card", "prepaid card", "business card", "travel card", "student card"],
                       ["replacement card", "foreign transaction", "cash withdrawal", "late payment"],
                       ["new card delivery time", "dispute decision time"],
                       ["daily ATM withdrawal limit", "contactless payment limit"],
                       ["dispute window", "chargeback period"], "branch", ["card", "pin"]),
    "rail booking": (["Rail", "Railways", "Trains"],
                     ["standard ticket", "first class ticket", "season ticket", "sleeper berth", "rail pass",
                      "bike reservation"],
                     ["change", "seat reservation", "refund admin", "ticket reprint"],
                     ["refund processing time", "season ticket delivery time"],
                     ["luggage allowance", "passengers per booking"],
                     ["change deadline", "refund claim window"], "ticket office", ["booking", "seat"]),
    "furniture": (["Furniture", "Home", "Interiors"],
                  ["sofa", "dining table", "wardrobe", "bed frame", "bookcase", "office desk"],
                  ["delivery", "assembly", "old furniture removal", "restocking"],
                  ["delivery window", "made-to-order lead time"], ["free delivery radius", "items per delivery"],
                  ["return window", "guarantee"], "showroom", ["delivery", "assembly"]),
    "veterinary clinic": (["Vets", "Animal Clinic", "Pet Care"],
                          ["consultation", "vaccination", "dental clean", "neutering", "microchipping", "pet check-up"],
                          ["out-of-hours", "missed appointment", "prescription"],
                          ["lab result time", "appointment wait"], ["pets per appointment", "repeat prescriptions"],
                          ["cancellation notice", "payment terms"], "clinic", ["pet", "vaccine"]),
    "ski rental": (["Ski Hire", "Alpine Rentals", "Snow"],
                   ["ski set", "snowboard set", "ski boots", "helmet", "kids ski set", "touring skis"],
                   ["damage waiver", "late return", "ski waxing"], ["fitting time", "waxing turnaround"],
                   ["rental days per booking", "sets per group"], ["cancellation window", "deposit hold"],
                   "rental shop", ["skis", "locker"]),
    "language school": (["Language School", "Lingua", "Academy"],
                        ["Spanish course", "English course", "German course", "private lesson", "exam prep",
                         "online course"],
                        ["enrolment", "placement test", "certificate"], ["course start time", "certificate delivery"],
                        ["students per class", "missed lessons made up"], ["withdrawal period", "course length"],
                        "school", ["course", "lesson"]),
    "solar installer": (["Solar", "Energy", "Sun Power"],
                        ["4 kW panel system", "6 kW panel system", "home battery", "EV charger", "panel cleaning",
                         "inverter upgrade"],
                        ["survey", "scaffolding", "grid connection"], ["installation lead time", "survey booking time"],
                        ["panels per roof", "battery capacity"], ["warranty", "cooling-off period"], "office",
                        ["survey", "panel"]),
    # training
    "online shop": (["Store", "Shop", "Market"],
                    ["headphones", "coffee maker", "running shoes", "desk lamp", "backpack", "phone case"],
                    ["express shipping", "gift wrapping", "restocking"], ["standard delivery", "refund time"],
                    ["items per order", "discount codes per order"], ["return window", "warranty"], "warehouse",
                    ["order", "return"]),
    "mobile network": (["Mobile", "Telecom", "Wireless"],
                       ["SIM-only plan", "unlimited plan", "family plan", "prepaid bundle", "roaming pack",
                        "phone upgrade"],
                       ["SIM replacement", "roaming", "number transfer"], ["SIM delivery", "number port time"],
                       ["monthly data", "lines per account"], ["contract length", "cooling-off period"], "store",
                       ["sim", "plan"]),
    "electricity supplier": (["Energy", "Power", "Electric"],
                             ["fixed tariff", "variable tariff", "green tariff", "EV tariff", "night tariff",
                              "business tariff"],
                             ["exit", "meter exchange", "late payment"], ["switch time", "meter visit wait"],
                             ["direct debit change per year", "meters per account"],
                             ["tariff length", "notice period"], "office", ["meter", "tariff"]),
    "dentist": (["Dental", "Smiles", "Dentistry"],
                ["check-up", "hygiene clean", "filling", "whitening", "crown", "emergency visit"],
                ["missed appointment", "x-ray", "late cancellation"], ["appointment wait", "crown fitting time"],
                ["family members per plan", "check-ups per year"], ["cancellation notice", "treatment guarantee"],
                "practice", ["appointment", "treatment"]),
    "gym": (["Fitness", "Gym", "Athletics"],
            ["monthly membership", "annual membership", "day pass", "personal training", "yoga class", "swim pass"],
            ["joining", "freeze", "towel hire"], ["membership activation", "trainer booking time"],
            ["guest passes per month", "classes per week"], ["notice period", "minimum term"], "club",
            ["membership", "class"]),
    "car rental": (["Car Hire", "Rentals", "Motors"],
                   ["compact car", "family car", "van", "electric car", "convertible", "minibus"],
                   ["young driver", "one-way", "extra driver", "fuel service"], ["pick-up wait", "deposit release"],
                   ["daily mileage", "drivers per rental"], ["free cancellation window", "minimum age"], "desk",
                   ["rental", "vehicle"]),
    "hotel": (["Hotel", "Inn", "Suites"],
              ["single room", "double room", "family suite", "breakfast package", "spa package", "parking space"],
              ["late checkout", "pet", "room service"], ["check-in time", "check-out time"],
              ["guests per room", "nights per booking"], ["free cancellation window", "deposit"], "reception",
              ["reservation", "room"]),
    "airline": (["Air", "Airways", "Jet"],
                ["economy fare", "premium fare", "business fare", "extra legroom seat", "checked bag",
                 "lounge pass"],
                ["name change", "flight change", "excess baggage"], ["check-in opening", "refund time"],
                ["cabin bag weight", "checked bag weight"], ["change deadline", "refund window"], "airport desk",
                ["flight", "baggage"]),
    "food delivery": (["Eats", "Kitchen", "Foods"],
                      ["pizza menu", "sushi box", "salad bowl", "family meal", "breakfast box", "dessert box"],
                      ["delivery", "small order", "service"], ["delivery time", "refund time"],
                      ["minimum order", "items per order"], ["complaint window", "voucher validity"], "kitchen",
                      ["order", "voucher"]),
    "insurance": (["Insurance", "Assurance", "Cover"],
                  ["car insurance", "home insurance", "travel insurance", "pet insurance", "phone insurance",
                   "life cover"],
                  ["policy change", "cancellation", "excess"], ["claim decision time", "payout time"],
                  ["claims per year", "cover limit"], ["cooling-off period", "claim deadline"], "office",
                  ["claim", "policy"]),
    "streaming service": (["Stream", "Play", "Media"],
                          ["basic plan", "standard plan", "premium plan", "family plan", "sports add-on",
                           "kids profile"],
                          ["extra member", "reactivation"], ["refund time", "plan change time"],
                          ["screens at once", "downloads per device"], ["free trial", "billing cycle"], "office",
                          ["subscription", "profile"]),
    "plumber": (["Plumbing", "Heating", "Pipes"],
                ["boiler service", "leak repair", "drain unblocking", "radiator fitting", "boiler install",
                 "bathroom fit"],
                ["call-out", "weekend", "parts handling"], ["response time", "quote turnaround"],
                ["free quote radius", "visits per job"], ["workmanship guarantee", "cancellation notice"],
                "office", ["job", "quote"]),
    "car repair": (["Garage", "Autos", "Motor Works"],
                   ["oil change", "brake repair", "MOT test", "tyre fitting", "car service", "diagnostics"],
                   ["collection", "courtesy car", "diagnostic"], ["repair turnaround", "parts wait"],
                   ["tyres per fitting", "courtesy car days"], ["repair guarantee", "storage grace period"],
                   "workshop", ["repair", "tyre"]),
    "cleaning service": (["Cleaning", "Clean", "Maids"],
                         ["regular clean", "deep clean", "end of tenancy clean", "oven clean", "carpet clean",
                          "window clean"],
                         ["cancellation", "supplies", "key holding"], ["booking lead time", "re-clean response"],
                         ["rooms per visit", "hours per visit"], ["satisfaction guarantee", "notice period"],
                         "office", ["clean", "visit"]),
    "moving company": (["Removals", "Movers", "Relocation"],
                       ["studio move", "house move", "office move", "piano move", "storage unit", "packing service"],
                       ["packing material", "stairs", "waiting time"], ["quote turnaround", "booking lead time"],
                       ["boxes included", "van hours"], ["deposit refund window", "insurance cover"], "depot",
                       ["move", "storage"]),
    "pharmacy": (["Pharmacy", "Chemist", "Health"],
                 ["prescription refill", "flu jab", "blood pressure check", "travel vaccine", "delivery service",
                  "medicine review"],
                 ["prescription delivery", "travel clinic"], ["prescription ready time", "delivery time"],
                 ["items per prescription", "repeat orders per month"], ["prescription validity", "return window"],
                 "pharmacy", ["prescription", "refill"]),
    "hair salon": (["Salon", "Hair", "Barbers"],
                   ["haircut", "colour", "highlights", "blow-dry", "beard trim", "kids cut"],
                   ["late cancellation", "no-show", "consultation"], ["appointment wait", "colour session length"],
                   ["guests per booking", "services per visit"], ["cancellation notice", "colour guarantee"],
                   "salon", ["appointment", "stylist"]),
    "cinema": (["Cinema", "Pictures", "Screens"],
               ["standard ticket", "premium seat", "IMAX ticket", "membership", "popcorn combo", "private screening"],
               ["booking", "ticket exchange"], ["doors open before", "refund time"],
               ["tickets per booking", "free tickets per month"], ["exchange deadline", "voucher validity"],
               "box office", ["ticket", "screening"]),
    "bookshop": (["Books", "Bookshop", "Reads"],
                 ["paperback", "hardback", "e-book", "audiobook", "book club", "gift card"],
                 ["special order", "gift wrap"], ["special order wait", "delivery time"],
                 ["books per loan", "gift card balance"], ["return window", "gift card validity"], "shop",
                 ["preorder", "giftcard"]),
    "parking operator": (["Parking", "Park", "Car Parks"],
                         ["hourly parking", "day ticket", "monthly permit", "EV charging bay", "airport parking",
                          "motorbike bay"],
                         ["lost ticket", "penalty", "permit change"], ["appeal decision time", "permit delivery"],
                         ["maximum stay", "vehicles per permit"], ["appeal window", "refund window"], "office",
                         ["permit", "penalty"]),
    "water utility": (["Water", "Utilities", "Waterworks"],
                      ["metered supply", "unmetered supply", "sewerage", "water meter install", "leak check",
                       "business supply"],
                      ["reconnection", "meter reading visit", "late payment"], ["leak response time",
                                                                              "meter install wait"],
                      ["payment plan months", "readings per year"], ["bill dispute window", "notice period"],
                      "office", ["meter", "bill"]),
    "courier": (["Couriers", "Express", "Parcels"],
                ["next-day parcel", "same-day parcel", "international parcel", "pallet", "letter", "locker drop"],
                ["redelivery", "customs handling", "oversize"], ["delivery time", "claim decision time"],
                ["parcel weight", "parcel length"], ["claim window", "storage period"], "depot",
                ["parcel", "pickup"]),
    "event venue": (["Venue", "Hall", "Events"],
                    ["wedding package", "conference room", "party hall", "catering", "AV hire", "garden hire"],
                    ["cleaning", "overtime", "corkage"], ["quote turnaround", "setup time"],
                    ["guests per hall", "hours per hire"], ["deposit refund window", "date change notice"],
                    "office", ["event", "hire"]),
    "tutoring": (["Tutors", "Learning", "Study"],
                 ["maths tutoring", "science tutoring", "exam coaching", "reading help", "group session",
                  "homework club"],
                 ["trial lesson", "materials", "late cancellation"], ["tutor match time", "report delivery"],
                 ["students per group", "sessions per week"], ["cancellation notice", "package validity"],
                 "centre", ["session", "tutor"]),
    "software vendor": (["Software", "Labs", "Systems"],
                        ["starter licence", "team licence", "enterprise licence", "support plan", "training day",
                         "API add-on"],
                        ["onboarding", "extra seat", "data export"], ["support response time", "refund time"],
                        ["API calls per day", "seats per licence"], ["refund window", "licence term"], "office",
                        ["licence", "ticket"]),
    "print shop": (["Print", "Press", "Prints"],
                   ["business cards", "flyers", "posters", "banners", "photo books", "stickers"],
                   ["design", "proof", "rush"], ["print turnaround", "delivery time"],
                   ["minimum order", "file size"], ["reprint window", "proof approval deadline"], "shop",
                   ["print", "proof"]),
    "camping site": (["Camping", "Campsite", "Outdoors"],
                     ["tent pitch", "caravan pitch", "cabin", "glamping tent", "electric hook-up", "firewood"],
                     ["late arrival", "dog", "extra car"], ["check-in time", "check-out time"],
                     ["people per pitch", "nights per stay"], ["free cancellation window", "deposit"],
                     "reception", ["pitch", "stay"]),
    "laundry": (["Laundry", "Dry Cleaners", "Wash"],
                ["wash and fold", "dry cleaning", "shirt service", "duvet clean", "ironing", "alterations"],
                ["express", "collection", "stain treatment"], ["turnaround", "collection wait"],
                ["items per bag", "bag weight"], ["claim window", "unclaimed items period"], "shop",
                ["laundry", "collection"]),
    "childcare": (["Nursery", "Kids", "Daycare"],
                  ["full day place", "half day place", "after-school club", "holiday camp", "baby room",
                   "breakfast club"],
                  ["registration", "late pickup", "meals"], ["waiting list time", "settling-in period"],
                  ["children per room", "days per week"], ["notice period", "deposit"], "nursery",
                  ["place", "enrolment"]),
    "bike shop": (["Cycles", "Bikes", "Wheels"],
                  ["city bike", "e-bike", "kids bike", "bike service", "puncture repair", "bike rental"],
                  ["assembly", "storage", "rush service"], ["service turnaround", "order wait"],
                  ["rental days", "bikes per rental"], ["return window", "frame warranty"], "workshop",
                  ["servicing", "bike"]),
    "photo studio": (["Studio", "Photography", "Portraits"],
                     ["portrait session", "family shoot", "headshots", "wedding photos", "passport photos",
                      "photo prints"],
                     ["rescheduling", "extra edit", "location"], ["photo delivery", "print delivery"],
                     ["people per session", "edited photos"], ["cancellation notice", "file storage period"],
                     "studio", ["session", "gallery"]),
}
HELDOUT_SECTORS = ("fiber internet", "bank card desk", "rail booking", "furniture", "veterinary clinic",
                   "ski rental", "language school", "solar installer")
# issue 35's outside prompts: the style each was written in
STRANGER_STYLES = {"fiber internet": "markdown_table", "bank card desk": "numbered", "rail booking": "second_person",
                   "furniture": "prose"}

# ---- tools: a name is verb_object, e.g. block_card; the object brings the reference and its parameter
# object -> (what the customer calls it, parameter, label of the reference, reference shape)
OBJECTS = {
    "outage": ("outage", "account_id", "account number", "digits7"),
    "line": ("line", "line_id", "line ID", "dashed"),
    "card": ("card", "card_last4", "card ending", "last4"),
    "pin": ("PIN", "card_last4", "card ending", "last4"),
    "booking": ("booking", "booking_ref", "booking reference", "alnum6"),
    "seat": ("seat reservation", "booking_ref", "booking reference", "alnum6"),
    "delivery": ("delivery", "order_number", "order number", "digits6"),
    "assembly": ("assembly appointment", "order_number", "order number", "digits6"),
    "pet": ("pet's record", "patient_id", "patient number", "hash"),
    "vaccine": ("vaccination", "patient_id", "patient number", "hash"),
    "skis": ("ski rental", "rental_code", "rental code", "alnum6"),
    "locker": ("ski locker", "locker_number", "locker number", "digits6"),
    "course": ("course place", "student_id", "student number", "dashed"),
    "lesson": ("lesson", "student_id", "student number", "dashed"),
    "survey": ("survey visit", "quote_ref", "quote reference", "inv"),
    "panel": ("panel system", "installation_id", "installation ID", "inv"),
    "order": ("order", "order_id", "order number", "digits7"),
    "return": ("return", "return_number", "return number", "inv"),
    "sim": ("SIM", "phone_number", "phone number", "mobile"),
    "plan": ("plan", "account_number", "account number", "digits7"),
    "meter": ("meter", "meter_id", "meter number", "dashed"),
    "tariff": ("tariff", "customer_number", "customer number", "digits7"),
    "appointment": ("appointment", "appointment_id", "appointment number", "digits6"),
    "treatment": ("treatment plan", "patient_number", "patient number", "hash"),
    "membership": ("membership", "member_id", "member number", "digits6"),
    "class": ("class booking", "member_id", "member number", "digits6"),
    "rental": ("rental", "reservation_code", "reservation code", "alnum6"),
    "vehicle": ("car", "reservation_code", "reservation code", "alnum6"),
    "reservation": ("reservation", "confirmation_code", "confirmation code", "alnum6"),
    "room": ("room", "confirmation_code", "confirmation code", "alnum6"),
    "flight": ("flight", "booking_code", "booking code", "alnum6"),
    "baggage": ("bag", "bag_tag", "bag tag", "inv"),
    "voucher": ("voucher", "voucher_code", "voucher code", "lower"),
    "claim": ("claim", "claim_number", "claim number", "inv"),
    "policy": ("policy", "policy_number", "policy number", "inv"),
    "subscription": ("subscription", "email", "account e-mail", "email"),
    "profile": ("profile", "email", "account e-mail", "email"),
    "job": ("job", "job_number", "job number", "digits6"),
    "quote": ("quote", "quote_number", "quote number", "inv"),
    "repair": ("repair", "job_card", "job card", "dashed"),
    "tyre": ("tyre order", "job_card", "job card", "dashed"),
    "clean": ("cleaning booking", "booking_number", "booking number", "digits6"),
    "visit": ("cleaning visit", "booking_number", "booking number", "digits6"),
    "move": ("move", "move_reference", "move reference", "inv"),
    "storage": ("storage unit", "unit_number", "unit number", "hash"),
    "prescription": ("prescription", "prescription_id", "prescription number", "digits7"),
    "refill": ("refill", "prescription_id", "prescription number", "digits7"),
    "stylist": ("stylist booking", "booking_number", "booking number", "digits6"),
    "ticket": ("ticket", "ticket_code", "ticket code", "alnum6"),
    "screening": ("screening", "ticket_code", "ticket code", "alnum6"),
    "preorder": ("pre-order", "order_id", "order number", "digits7"),
    "giftcard": ("gift card", "card_code", "gift card code", "dashed"),
    "permit": ("permit", "permit_number", "permit number", "dashed"),
    "penalty": ("penalty notice", "notice_number", "notice number", "inv"),
    "bill": ("bill", "account_number", "account number", "digits7"),
    "parcel": ("parcel", "tracking_number", "tracking number", "tracking"),
    "pickup": ("pickup", "tracking_number", "tracking number", "tracking"),
    "event": ("event booking", "event_id", "event number", "inv"),
    "hire": ("hire", "event_id", "event number", "inv"),
    "session": ("session", "booking_id", "booking number", "digits6"),
    "tutor": ("tutor booking", "student_email", "student e-mail", "email"),
    "licence": ("licence", "licence_key", "licence key", "dashed"),
    "print": ("print order", "order_id", "order number", "digits7"),
    "proof": ("proof", "order_id", "order number", "digits7"),
    "pitch": ("pitch booking", "booking_ref", "booking reference", "alnum6"),
    "stay": ("stay", "booking_ref", "booking reference", "alnum6"),
    "laundry": ("laundry order", "ticket_number", "ticket number", "hash"),
    "collection": ("collection", "ticket_number", "ticket number", "hash"),
    "place": ("childcare place", "child_id", "child number", "dashed"),
    "enrolment": ("enrolment", "family_email", "family e-mail", "email"),
    "bike": ("bike order", "order_id", "order number", "digits7"),
    "servicing": ("bike service", "job_number", "job number", "digits6"),
    "gallery": ("photo gallery", "client_email", "client e-mail", "email"),
}
# verb -> (what the customer asks, before the reference; tool description; extra parameter (name, description,
# values) or None; the result's status). Held-out: check, block, track, change, query; training: the other ten.
VERBS = {
    "check": ("check the {obj}", "Check the current status of a {obj}.", None, "no fault found"),
    "block": ("block my {obj}, it is {extra}", "Block a {obj} at once.",
              ("reason", "Why it is blocked.", ["lost", "stolen", "damaged", "compromised"]), "blocked"),
    "track": ("track my {obj}", "Track a {obj} and return where it is.", None, "on its way"),
    "change": ("change the date of my {obj} to {extra}", "Move a {obj} to another date.",
               ("new_date", "The new date, as the customer says it.", ["14 March", "Friday", "2 June", "next Monday",
                                                                      "the 21st"]), "changed"),
    "query": ("see what is on my {obj}", "Query the details of a {obj}.", None, "active"),
    "look_up": ("look up my {obj}", "Look up a {obj} by its reference.", None, "confirmed"),
    "cancel": ("cancel my {obj}", "Cancel a {obj}.", None, "cancelled"),
    "reschedule": ("move my {obj} to {extra}", "Reschedule a {obj} to a new date.",
                   ("date", "The new date.", ["3 April", "Tuesday", "the 9th", "next week", "12 May"]), "rescheduled"),
    "report": ("report a problem with my {obj}: {extra}", "Report a problem with a {obj}.",
               ("problem", "The problem in the customer's words.", ["it stopped working", "it never arrived",
                                                                    "the amount is wrong", "nobody turned up"]),
               "reported"),
    "renew": ("renew my {obj}", "Renew a {obj} for another term.", None, "renewed"),
    "pause": ("pause my {obj}", "Pause a {obj} for a while.", None, "paused"),
    "get_status": ("get the status of my {obj}", "Get the status of a {obj}.", None, "in progress"),
    "resend": ("resend the confirmation for my {obj}", "Resend the confirmation of a {obj}.", None,
               "sent"),
    "refund": ("refund my {obj}, the reason is {extra}", "Refund a {obj} to the original payment method.",
               ("reason", "The reason for the refund.", ["not needed any more", "charged twice", "poor quality"]),
               "refund issued"),
    "update": ("update the e-mail on my {obj} to {extra}", "Update the contact e-mail of a {obj}.",
               ("new_email", "The new e-mail address.", "email"), "updated"),
}
HELDOUT_VERBS = ("check", "block", "track", "change", "query")
HELDOUT_OBJECTS = tuple(o for s in HELDOUT_SECTORS for o in SECTORS[s][7])

STYLES = ("markdown_table", "bullets", "numbered", "prose", "second_person", "terse", "qa", "headed")
HELDOUT_STYLES = ("qa", "headed")


def split_of(heldout):
    """(sectors, styles, verbs) of a split: held-out never meets training in any of the three."""
    if heldout:
        return list(HELDOUT_SECTORS), list(HELDOUT_STYLES) + list(STRANGER_STYLES.values()), list(HELDOUT_VERBS)
    return ([s for s in SECTORS if s not in HELDOUT_SECTORS], [s for s in STYLES if s not in HELDOUT_STYLES],
            [v for v in VERBS if v not in HELDOUT_VERBS])


# ---- values of many shapes ----------------------------------------------------------------------------------
CURRENCIES = [("$", ""), ("£", ""), ("€", ""), ("", " EUR"), ("", " CHF")]
CITIES = ["Leeds", "Bristol", "Austin", "Dublin", "Utrecht", "Perth", "Lyon", "Graz", "Porto", "Malmo", "Denver",
          "Cork", "Ghent", "Tampere", "Halifax", "Nantes"]
STREETS = ["Mill Lane", "Harbour Street", "King's Road", "Elm Avenue", "Station Road", "Market Square",
           "Bridge Street", "Oak Park", "Canal Walk", "Hill Road"]


def money(r, cur, lo, hi):
    amount = r.randint(lo, hi)
    text = f"{amount:,}" if r.random() < 0.6 else f"{amount - 1:,}.{r.choice(['99', '50', '95', '00'])}"
    return f"{cur[0]}{text}{cur[1]}"


def reference(r, h, shape):
    """A customer's reference: 482913, 4829137, K7QX2P, INV-2031-88, AB-123-456, #48213, 4821, ord_8f3k2q, an
    e-mail ..."""
    letters, alnum = "ABCDEFGHJKLMNPQRSTUVWXYZ", "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    if shape == "digits6":
        return str(r.randint(100000, 999999))
    if shape == "digits7":
        return str(r.randint(1000000, 9999999))
    if shape == "alnum6":
        return "".join(r.choice(alnum) for _ in range(6))
    if shape == "inv":
        return f"{r.choice(['INV', 'CLM', 'QT', 'REF', 'PN'])}-{r.randint(2000, 2099)}-{r.randint(10, 99)}"
    if shape == "dashed":
        return f"{r.choice(letters)}{r.choice(letters)}-{r.randint(100, 999)}-{r.randint(100, 999)}"
    if shape == "hash":
        return f"#{r.randint(10000, 99999)}"
    if shape == "last4":
        return f"{r.randint(0, 9999):04d}"
    if shape == "lower":
        tail = "".join(r.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(6))
        return f"{r.choice(['vch', 'ord', 'cpn'])}_{tail}"
    if shape == "mobile":
        return f"07{r.randint(100, 999)} {r.randint(100000, 999999)}"
    if shape == "email":
        return email_address(r, h, maybe_coined(r, h, r.choice(NAMES[h]), 0.5).lower())
    if shape == "tracking":
        return f"{r.choice(['1Z', 'JD', 'TX'])}{r.randint(10 ** 9, 10 ** 10 - 1)}"
    raise ValueError(shape)


def phone(r):
    return r.choice([
        lambda: f"+44 20 {r.randint(7000, 7999)} {r.randint(1000, 9999)}",
        lambda: f"0800 {r.randint(100, 999)} {r.randint(1000, 9999)}",
        lambda: f"({r.randint(200, 989)}) 555-{r.randint(1000, 9999)}",
        lambda: f"+1-800-{r.randint(200, 999)}-{r.randint(1000, 9999)}",
        lambda: f"+353 1 {r.randint(200, 999)} {r.randint(1000, 9999)}",
        lambda: f"030 {r.randint(1000, 9999)} {r.randint(1000, 9999)}"])()


def hours(r):
    open_, close = r.choice([(7, 19), (8, 20), (9, 17), (9, 18), (10, 16), (8, 22), (6, 23)])
    days = r.choice(["Mon-Fri", "Monday to Friday", "Mon-Sat", "Monday to Saturday", "every day", "weekdays"])
    return r.choice([f"{days} {open_:02d}:00-{close:02d}:00", f"{days}, {open_}am to {close - 12}pm",
                     f"{days} {open_}:30-{close}:30", "24/7"])


def duration(r):
    a = r.randint(2, 10)
    return r.choice([f"{a} to {a + r.randint(1, 5)} working days", f"{a} business days", f"within {a * 12} hours",
                     f"{a}-{a + 2} weeks", f"up to {a + 1} days", f"{a * 15} minutes"])


def period(r, label):
    if "age" in label.split():
        return f"{r.randint(18, 25)} years"
    return r.choice([f"{r.choice([7, 14, 28, 30, 60, 90])} days", f"{r.choice([1, 3, 6, 12, 24])} months",
                     f"{r.choice([24, 48, 72])} hours", f"{r.choice([1, 2, 5])} years"])


LIMIT_UNITS = [  # a word of the limit's label -> how its value reads
    (("weight", "allowance"), lambda r, cur: f"{r.randint(5, 30)} kg"),
    (("data", "cap", "size"), lambda r, cur: f"{r.choice([2, 5, 20, 50, 100, 500])} GB"),
    (("capacity",), lambda r, cur: f"{r.randint(5, 15)} kWh"),
    (("radius", "mileage"), lambda r, cur: f"{r.randint(5, 300)} km"),
    (("length",), lambda r, cur: f"{r.randint(40, 180)} cm"),
    (("stay",), lambda r, cur: f"{r.randint(2, 24)} hours"),
    (("limit", "balance", "minimum", "cover", "order"), lambda r, cur: money(r, cur, 10, 2500)),
]


def limit(r, cur, label):
    for words, value in LIMIT_UNITS:
        if any(w in label for w in words):
            return value(r, cur)
    return str(r.randint(2, 12))  # a count: guests per room, classes per week


# ---- a business and its facts ---------------------------------------------------------------------------------
class Fact:
    """One line of the facts table: key (stable id), type, label ("installation fee"), value ("£49")."""

    def __init__(self, key, type_, label, value):
        self.key, self.type, self.label, self.value = key, type_, label, value

    def __repr__(self):
        return f"Fact({self.label}={self.value})"


def fact_pool(r, sector, cur, place):
    """Every fact a business of this sector could state, values drawn; a business states 8-20 of them."""
    _, offerings, fees, durations, limits, periods, _, _ = SECTORS[sector]
    per = r.choice(["", "", " a month", " each"])  # how the business quotes its prices
    pool = [Fact("price:" + o, "price", f"price of the {o}", money(r, cur, 5, 900) + per) for o in offerings]
    pool += [Fact("fee:" + f, "fee", f"{f} fee", money(r, cur, 2, 150)) for f in fees]
    pool += [Fact("duration:" + d, "duration", d, duration(r)) for d in durations]
    pool += [Fact("limit:" + m, "limit", m, limit(r, cur, m)) for m in limits]
    pool += [Fact("period:" + p, "period", p, period(r, p)) for p in periods]
    pool += [Fact("hours:" + place, "hours", f"{place} opening hours", hours(r)),
             Fact("hours:phone", "hours", "phone support hours", hours(r)),
             Fact("address:" + place, "address", f"{place} address",
                  f"{r.randint(1, 180)} {r.choice(STREETS)}, {r.choice(CITIES)}"),
             Fact("phone:complaints", "phone", "complaints line", phone(r))]
    return pool


class Business:
    """One operator: a kind (sector x offering), a name, a contact line, 8-20 stated facts and the facts it omits."""

    def __init__(self, r, heldout, sector=None):
        sectors, _, _ = split_of(heldout)
        self.sector = sector or r.choice(sectors)
        words, offerings, *_, place, self.objects = SECTORS[self.sector]
        self.offering = r.choice(offerings)
        self.kind = f"{self.sector}/{self.offering}"
        brand = maybe_coined(r, heldout, r.choice(BRAND_A[1 if heldout else 0]), 0.5)
        self.company = f"{brand} {r.choice(words)}"
        slug = brand.lower().replace(" ", "")
        pool = fact_pool(r, self.sector, r.choice(CURRENCIES), place)
        # the contact line is always stated: a reply that does not know points to it
        mailbox = f"{r.choice(['help', 'support', 'hello', 'care'])}@{slug}.{r.choice(['com', 'co.uk', 'ie', 'net'])}"
        self.contact = r.choice([Fact("phone:support", "phone", "support phone", phone(r)),
                                 Fact("email:support", "email", "support e-mail", mailbox)])
        r.shuffle(pool)
        own = next(f for f in pool if f.key == "price:" + self.offering)  # its kind's offering is always priced
        rest = [f for f in pool if f is not own]
        n = r.randint(7, min(19, len(rest) - 3))
        self.facts = [self.contact, own] + rest[:n]
        r.shuffle(self.facts)
        self.omitted = rest[n:]  # asked about, they have no answer in the prompt
        self.bot = r.choice(["Max", "Ava", "Kai", "Lena", "Robin", "Sky", "Nova", "Milo", "Iris", "Theo"])


def sentence(f):
    """A fact as prose, the value kept whole."""
    if f.type == "price":
        return f"The {f.label[len('price of the '):]} costs {f.value}."
    if f.type == "hours":
        return f"Our {f.label} are {f.value}."
    return f"The {f.label} is {f.value}."


RULES = ["Answer only questions about {company} and its services; politely decline anything else.",
         "Use only the facts in this prompt. If the answer is not here, say you don't know and give the {contact}.",
         "Repeat the customer's reference exactly as they wrote it (a {ref_label} looks like {ref_example}).",
         "Never ask for full card numbers or passwords.",
         "Keep replies short: one to three sentences.",
         "Use a tool only when one of the declared tools does what the customer asks."]
FILLER = ["Customers are often in a hurry, so put the answer first and the explanation after it.",
          "Be friendly but do not use emojis or exclamation marks.",
          "If a customer is upset, acknowledge it in one sentence before you answer.",
          "Do not promise anything that is not written in this prompt, such as discounts or exceptions.",
          "When a customer gives a reference, read it back to them so they can check it.",
          "Prices include tax unless stated otherwise.",
          "We serve private and business customers alike; treat both the same way.",
          "If a customer asks several things at once, answer them in the order they were asked.",
          "Do not discuss competitors or give opinions on other companies.",
          "Complaints are taken seriously; record them by pointing the customer to the complaints line if given.",
          "Use plain language and avoid internal jargon.",
          "If the customer writes in another language, answer in English and keep it simple.",
          "Staff names are not shared with customers.",
          "Opening hours can change on public holidays; the hours here are the regular ones.",
          "{company} has served {sector} customers since {year}, and many of them have been with us for years.",
          "Most questions are about prices, fees and opening hours; answer those from the facts above.",
          "Do not guess dates, amounts or references: copy them from this prompt or from the customer.",
          "Say who you are only if asked: the {company} assistant.",
          "Thank customers for their patience when they had to wait.",
          "Never share one customer's details with another.",
          "Our team reads every conversation later to improve the service, so stay factual.",
          "If a tool fails, apologise and give the contact from this prompt."]


def render_prompt(r, b, style, target_words):
    """The operator prompt: an opening, the facts table in the style, then rules and filler up to target_words (the
    first three rules always: scope, don't-know with the contact, references)."""
    c, o, facts = b.company, b.offering, b.facts
    obj = OBJECTS[b.objects[0]]
    rules = [x.format(company=c, contact=b.contact.label, ref_label=obj[2], ref_example=reference(r, 0, obj[3]))
             for x in RULES]
    rules += [x.format(company=c, sector=b.sector, year=r.randint(1960, 2021)) for x in r.sample(FILLER, len(FILLER))]
    line = {  # style -> (opening, one fact)
        "markdown_table": (f"# {c} support assistant\n\nYou answer customers of {c} ({b.sector}, mainly {o}) in "
                           "our chat.\n\n| Item | Value |\n|---|---|", lambda f: f"| {cap(f.label)} | {f.value} |"),
        "bullets": (f"You are {b.bot}, the chat assistant of {c}, a {b.sector} business known for its {o}.\n\n"
                    "Key facts:", lambda f: f"* {f.label}: {f.value}"),
        "numbered": (f"{c.upper()} - {b.sector.upper().removesuffix(' DESK')} DESK. RULES FOR THE ASSISTANT.",
                     lambda f: f"{cap(f.label)}: {f.value}."),
        "prose": (f"{c} is a {b.sector} business. Most customers come to us for the {o}.", sentence),
        "second_person": (f"You are the virtual agent for {c}. You talk to customers who want help with their {o} "
                          f"and everything else we offer as a {b.sector} business.",
                          lambda f: r.choice(["You tell customers that", "Remember that", "You should know that",
                                              "When asked, you say that"]) + " " + sentence(f)[0].lower() +
                          sentence(f)[1:]),
        "terse": (f"company: {c}\nsector: {b.sector}\nmain offering: {o}", lambda f: f"{f.label}: {f.value}"),
        "qa": (f"Assistant brief for {c} ({b.sector}). Answer from these questions and answers.",
               lambda f: f"Q: What is the {f.label}?\nA: {f.value}"),
        "headed": (f"## About {c}\nA {b.sector} business; main offering: {o}.", lambda f: f"{f.label} -> {f.value}"),
    }
    head, one = line[style]
    if style == "headed":  # one section per type of fact
        types = []
        for f in facts:
            types += [f.type] if f.type not in types else []
        body = "\n\n".join(f"## {t.capitalize()}\n" + "\n".join(one(f) for f in facts if f.type == t) for t in types)
    elif style == "numbered":
        body = "\n".join(f"{i}. {one(f)}" for i, f in enumerate(facts, 1))
    else:
        body = (" " if style in ("prose", "second_person") else "\n").join(one(f) for f in facts)
    keep, words = 3, len(head.split()) + len(body.split())
    while keep < len(rules) and words + sum(len(x.split()) for x in rules[:keep + 1]) <= target_words:
        keep += 1
    rules = rules[:keep]
    if style == "markdown_table":
        tail = "## Rules\n" + "\n".join(f"- {x}" for x in rules)
    elif style == "bullets":
        tail = "Guidelines:\n" + "\n".join(f"* {x}" for x in rules)
    elif style == "numbered":
        tail = "\n".join(f"{i}. {x}" for i, x in enumerate(rules, len(facts) + 1))
    elif style == "second_person":
        tail = "What you must keep to: " + " ".join(rules)
    elif style == "terse":
        tail = "rules: " + " / ".join(x.rstrip(".") for x in rules)
    elif style == "qa":
        tail = "Notes:\n" + "\n".join(rules)
    elif style == "headed":
        tail = "## How to answer\n" + "\n".join(rules)
    else:
        tail = " ".join(rules)
    sep = "\n" if style == "numbered" else "\n\n"
    return head + ("\n" if style in ("markdown_table", "bullets") else sep) + body + sep + tail


# ---- asks -------------------------------------------------------------------------------------------------------
ASK_BY_TYPE = {
    "price": ["How much is the {thing}?", "What does the {thing} cost?", "What's the price of the {thing}?",
              "{Thing} - how much?", "price for the {thing}?", "I'm thinking about the {thing}. What do I pay?",
              "How much would I pay for the {thing}?", "What do you charge for the {thing}?",
              "I saw the {thing} on your site, what's the price?"],
    "fee": ["How much is the {label}?", "Is there a {label}? How much?", "What do you charge as {label}?",
            "{Label}?", "what's the {label} again", "Do I have to pay a {label}? How much is it?",
            "My friend mentioned a {label}. What is it exactly?"],
    "duration": ["How long is the {label}?", "What's the {label}?", "How long do I have to wait - {label}?",
                 "{Label}?", "Roughly how long is the {label}?", "I'm in a hurry. What's your {label}?"],
    "limit": ["What's the {label}?", "Is there a {label}?", "what is the {label} please", "{Label}?",
              "Is there a maximum? I mean the {label}."],
    "period": ["How long is the {label}?", "What's your {label}?", "{Label} - how long?", "how long is {label}",
               "Before I sign up: how long is the {label}?"],
    "hours": ["What are your {label}?", "When are you open - {label}?", "{Label}?", "what time, {label}?",
              "I work late. What are the {label}?"],
    "address": ["What's the {label}?", "Where are you? I need the {label}.", "{Label}?",
                "I'd like to come by. What's the {label}?"],
    "phone": ["What's the {label}?", "Which number do I call - {label}?", "{Label} number?",
              "I'd rather call someone. What's the {label}?"],
    "email": ["What's the {label}?", "Which address do I write to?", "{Label}?",
              "I'd rather write an e-mail. What's the {label}?"],
}
ASK_GENERIC = ["Could you tell me the {label}?", "I'd like to know the {label}.", "Quick question: the {label}?",
               "Can you remind me what the {label} is?", "Hello, I have a question about the {label}.",
               "Sorry to bother you - what's the {label}?", "{label}??", "Please tell me the {label}, thanks."]
ANSWER = ["The {label} {is} {value}.", "{Label}: {value}.", "Here you go - {label}: {value}.",
          "Our {label} {is} {value}."]
ANSWER_PRICE = ["The {thing} costs {value}.", "{Thing}: {value}.", "It's {value} for the {thing}.",
                "The price of the {thing} is {value}."]
DONT_KNOW = ["I'm sorry, I don't know the {label} - it isn't in the information I have. You can reach us via our "
             "{contact}: {value}.",
             "I don't have the {label}, I'm afraid. Please contact us on the {contact}, {value}, and they can help."]
REFUSE = ["Sorry, I can only help with questions about {company}.",
          "I'm afraid I can't help with that here; I can only help with {company} and its services."]
OFF_TOPIC_HELDOUT = OFF_TOPIC_HO + ["Can you recommend a good podcast?", "How do I get red wine out of a carpet?",
                                    "What's the best way to learn Italian?", "Who painted the Mona Lisa?",
                                    "Can you plan my weekend in Rome?", "Is coffee bad for you?"]


def cap(s):
    return s[0].upper() + s[1:]


def ask_fact(r, f):
    thing = f.label[len("price of the "):] if f.type == "price" else f.label
    frame = r.choice(ASK_BY_TYPE[f.type] + ASK_GENERIC)
    return frame.format(thing=thing, Thing=cap(thing), label=f.label, Label=cap(f.label))


def answer_fact(r, f):
    if f.type == "price":
        thing = f.label[len("price of the "):]
        return r.choice(ANSWER_PRICE).format(thing=thing, Thing=cap(thing), value=f.value)
    return r.choice(ANSWER).format(label=f.label, Label=cap(f.label), value=f.value,
                                   **{"is": "are" if f.type == "hours" else "is"})


def after_colon(text):
    """"It's ..." as it reads after "For booking K7QX2P: " (a label that opens with an acronym keeps it)."""
    return text if text[1:2].isupper() else text[0].lower() + text[1:]


# ---- dialogues --------------------------------------------------------------------------------------------------
class Dialog:
    """One customer's turns under an operator; task is (verb, object, extra argument) when a declared tool serves
    the customer's request."""

    def __init__(self, r, h, b, tools, task):
        self.r, self.h, self.b, self.tools, self.task = r, h, b, tools, task
        self.msgs, self.checks = [], []
        self.name = maybe_coined(r, h, r.choice(NAMES[h]), 0.5) if r.random() < 0.4 else None
        self.said_name = False  # the name is recalled only once the customer has said it
        self.ref = self.ref_label = None  # the customer's reference, once given

    def user(self, text):
        if not self.msgs and self.name and self.r.random() < 0.5:
            text = f"Hi, this is {self.name}. {text}"
            self.said_name = True
        self.msgs.append({"role": "user", "content": text})

    def say(self, text, intent, metric, copy=(), **scored):
        """A reply and its check; scored names what eval.py's metrics look for: "value" (a fact's value, the
        specific), "reference" (the customer's reference, repeated)."""
        self.msgs.append({"role": "assistant", "content": text})
        self.checks.append(dict({"kind": "reply", "turn": len(self.msgs), "intent": intent, "metric": metric,
                                 "copy": list(copy)}, **scored))

    def no_tool_check(self):
        """A reply under declared tools that none of them serves: also scored as 'no tool when none applies'."""
        if self.tools:
            self.checks[-1]["no_tool"] = True

    # -- the turn-1 asks
    def fact(self):
        f = self.r.choice(self.b.facts)
        self.user(ask_fact(self.r, f))
        self.say(answer_fact(self.r, f), "fact", "specific", [f.value], value=f.value)
        self.no_tool_check()

    def reference_fact(self):
        """A reference with a question the prompt answers: the reply repeats the reference and copies the fact."""
        r, b = self.r, self.b
        obj = OBJECTS[r.choice(b.objects)]
        self.ref, self.ref_label = reference(r, self.h, obj[3]), obj[2]
        f = r.choice(b.facts)
        ask = ask_fact(r, f)
        self.user(r.choice([f"My {self.ref_label} is {self.ref}. {ask}", f"{ask} ({self.ref_label} {self.ref})",
                            f"Re {self.ref_label} {self.ref}: {ask[0].lower() + ask[1:]}"]))
        self.say(r.choice([f"For {self.ref_label} {self.ref}: " + after_colon(answer_fact(r, f)),
                           answer_fact(r, f) + f" I've noted your {self.ref_label}, {self.ref}."]),
                 "fact", "reference", [self.ref, f.value], value=f.value, reference=self.ref)
        self.no_tool_check()

    def dont_know(self):
        r, b = self.r, self.b
        f = r.choice(b.omitted)
        self.user(ask_fact(r, f))
        self.say(r.choice(DONT_KNOW).format(label=f.label, contact=b.contact.label, value=b.contact.value),
                 "dont_know", "dont_know", [b.contact.value])
        self.no_tool_check()

    def off_topic(self):
        self.user(off_topic_ask(self.r) if not self.h else self.r.choice(OFF_TOPIC_HELDOUT))
        self.say(self.r.choice(REFUSE).format(company=self.b.company), "redirect", "refusal", [self.b.company])
        self.no_tool_check()

    def tool_task(self):
        """The customer asks for what one declared tool does: the call copies their reference (and extra)."""
        r, (verb, objk, extra) = self.r, self.task
        phrase, label, shape = OBJECTS[objk][0], OBJECTS[objk][2], OBJECTS[objk][3]
        param = OBJECTS[objk][1]
        self.ref, self.ref_label = reference(r, self.h, shape), label
        args = {param: self.ref}
        ask = VERBS[verb][0]
        if extra:
            args[extra[0]] = extra[1]
        said = cap(r.choice(["please ", "can you ", "I need you to ", ""]) +
                   ask.format(obj=phrase, extra=extra[1] if extra else ""))
        if r.random() < 0.3:  # the reference is missing: ask for it first
            self.user(said + ".")
            self.say(f"Sure. What is your {label}?", "ask_ref", None)
            self.user(r.choice([f"It's {self.ref}.", self.ref, f"{cap(label)} {self.ref}."]))
        else:
            self.user(said + r.choice([f". My {label} is {self.ref}.", f" - {label} {self.ref}.",
                                       f" ({label}: {self.ref}), thanks."]))
        name = f"{verb}_{objk}"
        self.msgs.append({"role": "assistant", "content": "",
                          "tool_calls": [{"type": "function", "function": {"name": name, "arguments": args}}]})
        self.checks.append({"kind": "tool", "turn": len(self.msgs), "intent": "tool", "metric": "tool",
                            "tool": {"name": name, "arguments": args}, "copy": []})
        status = VERBS[verb][3]
        self.msgs.append({"role": "tool", "content": json.dumps({param: self.ref, "status": status})})
        self.say(r.choice([f"Your {phrase} with {label} {self.ref}: {status}.",
                           f"I've checked {label} {self.ref}: the status is {status}."]), "tool_result", "reference",
                 [self.ref, status], reference=self.ref)

    # -- follow-ups
    def recall(self):
        self.user(self.r.choice([f"Sorry, what was my {self.ref_label} again?", "Which reference did I give you?",
                                 f"Can you repeat my {self.ref_label}?"]))
        self.say(self.r.choice([f"Your {self.ref_label} is {self.ref}.", f"You gave {self.ref_label} {self.ref}."]),
                 "recall", "recall", [self.ref])
        self.no_tool_check()

    def name_recall(self):
        self.user("Do you remember my name?")
        self.say(f"Yes, you're {self.name}.", "recall", "recall", [self.name])
        self.no_tool_check()


def tool_set(r, h, b, verbs):
    """(declared tools, the task they serve or None): verb x object names from the split's vocabulary, the right
    one among distractors that share its verb or its object."""
    objk = r.choice(b.objects)
    verb = r.choice(verbs)
    names, count = {(verb, objk)}, r.randint(2, 4)
    while len(names) < count:
        names.add((r.choice(verbs), objk) if r.random() < 0.5 else (verb, r.choice(b.objects)))
    names = sorted(names)
    r.shuffle(names)
    tools = []
    for v, o in names:
        phrase, param, label, _ = OBJECTS[o]
        params = {param: f"The customer's {label}, exactly as given."}
        extra = VERBS[v][2]
        if extra:
            params[extra[0]] = extra[1]
        tools.append(tool_schema(f"{v}_{o}", VERBS[v][1].format(obj=phrase), params))
    extra = VERBS[verb][2]
    value = None
    if extra:
        value = email_address(r, h, r.choice(NAMES[h]).lower()) if extra[2] == "email" else r.choice(extra[2])
    return tools, (verb, objk, (extra[0], value) if extra else None)


def make_dialogue(r, h, op):
    b, tools = op.business, op.tools
    d = Dialog(r, h, b, tools, op.task)
    if op.task and r.random() < 0.6:
        first = "tool_task"
    else:
        first = r.choices(["fact", "reference_fact", "dont_know", "off_topic"], [5, 3, 2, 1])[0]
    getattr(d, first)()
    for _ in range(r.choices([0, 1, 2], [0.3, 0.45, 0.25])[0]):
        options = ["fact", "fact", "dont_know"]
        if d.ref:
            options += ["recall", "recall"]
        if d.said_name:
            options.append("name_recall")
        getattr(d, r.choice(options))()
    msgs = [{"role": "system", "content": op.system}] + d.msgs
    return {"messages": msgs, "tools": tools, "checks": d.checks, "company": b.company, "kind": b.kind,
            "sector": b.sector, "style": op.style,
            "text": render_chat(msgs, tools=tools, compact_tools=op.compact)}


class Operator:
    """A business, its prompt in one style and its tools (or none), shared by one group of dialogues."""

    def __init__(self, r, h):
        _, styles, verbs = split_of(h)
        self.business = Business(r, h)
        self.style = STRANGER_STYLES.get(self.business.sector) if h and r.random() < 0.5 else None
        self.style = self.style or r.choice(styles)
        # issue 35's outside prompts had 437-552 words; other operators write 120-600
        stranger = self.style == STRANGER_STYLES.get(self.business.sector) and h
        self.system = render_prompt(r, self.business, self.style, r.randint(437, 552) if stranger else
                                    r.randint(120, 600))
        self.tools, self.task = tool_set(r, h, self.business, verbs) if r.random() < 0.5 else (None, None)
        self.compact = r.random() < 0.4


def generate(n, seed, heldout, per_prompt=1):
    """n dialogues, per_prompt under each operator (consecutive lines with the same "group")."""
    return traffic_corpus.generate(n, seed, heldout, per_prompt, operator=Operator, dialogue=make_dialogue)


def stats(dialogues):
    """What a split holds: dialogues, sectors, kinds, tool names, dialogues per style, checks per metric."""
    kinds, sectors, styles, tools, metrics = set(), set(), {}, set(), {}
    for d in dialogues:
        kinds.add(d["kind"])
        sectors.add(d["sector"])
        styles[d["style"]] = styles.get(d["style"], 0) + 1
        tools.update(t["function"]["name"] for t in d["tools"] or [])
        for c in d["checks"]:
            if c.get("metric"):
                metrics[c["metric"]] = metrics.get(c["metric"], 0) + 1
            if c.get("no_tool"):
                metrics["no_tool"] = metrics.get("no_tool", 0) + 1
    return {"dialogues": len(dialogues), "sectors": len(sectors), "kinds": len(kinds),
            "tool_names": len(tools), "styles": dict(sorted(styles.items())), "checks": dict(sorted(metrics.items()))}


def main():
    ap = argparse.ArgumentParser(description="generate corpus v3: support dialogues of many businesses (JSONL)")
    ap.add_argument("--train", type=int, default=32000)
    ap.add_argument("--heldout", type=int, default=400)
    ap.add_argument("--seed", type=int, default=3035)
    ap.add_argument("--per-prompt", type=int, default=8,
                    help="training dialogues per system prompt (train.py computes a shared prompt once)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    summary = {}
    for name, n, seed, ho, k in (("train", a.train, a.seed, False, a.per_prompt),
                                 ("heldout", a.heldout, a.seed + 1, True, 1)):
        rows = []
        with open(os.path.join(a.out, name + ".jsonl"), "w", encoding="utf-8") as f:
            for d in generate(n, seed, ho, k):
                missing = list(unanswerable(d))
                if missing:
                    raise SystemExit(f"{name} group {d['group']}: replies copy what it never said: {missing}")
                f.write(json.dumps(d, ensure_ascii=False) + "\n")
                rows.append({key: d[key] for key in ("kind", "sector", "style", "tools", "checks")})
        summary[name] = stats(rows)
    with open(os.path.join(a.out, "stats.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
