package mailgen

// The English vocabulary. Each list is ordered from common to rare: the
// generator draws from it with a Zipf-like law (weight 1/rank), so the first
// words appear in most messages and the last ones in few. Distinctive words
// (Message.Words) come from the rare half of nouns.

// nouns are the nouns, the most varied part of the text.
var nouns = []string{
	"time", "team", "project", "meeting", "update", "issue", "week", "email",
	"report", "question", "plan", "release", "change", "data", "file", "system",
	"server", "customer", "document", "call", "version", "feedback", "day",
	"list", "draft", "review", "budget", "account", "schedule", "problem",
	"test", "build", "note", "price", "order", "ticket", "link", "page",
	"design", "code", "office", "payment", "contract", "invoice", "deadline",
	"proposal", "request", "message", "support", "service", "product",
	"feature", "bug", "branch", "agenda", "summary", "slide", "presentation",
	"client", "vendor", "quote", "estimate", "timeline", "milestone", "task",
	"workshop", "conference", "trip", "flight", "hotel", "lunch", "dinner",
	"coffee", "room", "calendar", "invite", "manager", "director", "board",
	"policy", "process", "workflow", "template", "spreadsheet", "database",
	"backup", "network", "password", "login", "laptop", "printer", "phone",
	"website", "domain", "certificate", "license", "migration", "upgrade",
	"patch", "deployment", "rollout", "outage", "incident", "alert", "metric",
	"dashboard", "log", "script", "config", "setting", "option", "parameter",
	"interface", "library", "module", "package", "repository", "commit",
	"pipeline", "cluster", "container", "queue", "cache", "index", "query",
	"record", "field", "column", "table", "chart", "graph", "figure",
	"analysis", "survey", "study", "result", "conclusion", "recommendation",
	"decision", "approval", "signature", "form", "application", "candidate",
	"interview", "offer", "salary", "benefit", "holiday", "vacation", "leave",
	"training", "course", "session", "webinar", "recording", "transcript",
	"minutes", "action", "owner", "stakeholder", "partner", "sponsor", "event",
	"venue", "catering", "shipment", "delivery", "warehouse",
	"inventory", "supplier", "receipt", "refund", "discount", "subscription",
	"renewal", "quota", "forecast", "target", "revenue", "expense", "cost",
	"audit", "compliance", "risk", "security", "privacy",
	"chapter", "section", "paragraph", "sentence", "headline", "article",
	"newsletter", "announcement", "reminder", "confirmation", "notification",
	"roadmap", "strategy", "vision", "goal", "priority", "scope", "requirement",
	"specification", "prototype", "mockup", "sketch", "wireframe", "palette",
	"font", "logo", "banner", "poster", "brochure", "catalog", "sample",
	"kitchen", "garden", "weekend", "birthday", "party", "gift", "photo",
	"album", "concert", "museum", "exhibition", "bicycle",
	"train", "station", "airport", "parking", "elevator", "basement", "roof",
	"window", "heater", "fridge", "plant", "recipe", "bakery", "market",
	"river", "mountain", "forest", "beach", "island", "harbor", "bridge",
	"lantern", "compass", "telescope", "anchor", "canvas", "easel", "violin",
	"piano", "trumpet", "accordion", "harmonica", "teapot", "kettle", "saucer",
	"ladle", "colander", "skillet", "thimble", "spindle", "loom", "quill",
	"parchment", "inkwell", "ledger", "almanac", "atlas", "gazetteer",
	"abacus", "sextant", "astrolabe", "barometer", "hygrometer", "pendulum",
	"gyroscope", "prism", "lens", "kaleidoscope", "zeppelin", "gondola",
	"caravel", "schooner", "catamaran", "halyard", "lanyard", "bollard",
	"capstan", "bowsprit", "gazebo", "pergola", "trellis", "parapet", "oriel",
	"belfry", "cloister", "rotunda", "obelisk", "monolith", "ziggurat",
	"fjord", "isthmus", "escarpment", "hummock", "tundra", "savanna", "mesa",
	"estuary", "lagoon", "atoll", "glacier", "moraine", "caldera", "geyser",
	"quince", "kumquat", "tamarind", "bergamot", "saffron", "cardamom",
	"rhubarb", "persimmon", "loquat", "durian", "rambutan", "mangosteen",
	"marmalade", "sorbet", "nougat", "marzipan", "praline", "meringue",
	"kestrel", "cormorant", "jackdaw", "ocelot", "wombat", "pangolin",
	"axolotl", "narwhal", "okapi", "capybara", "tapir", "quokka", "numbat",
	"bramble", "yarrow", "verbena", "wisteria", "foxglove", "hellebore",
	"zither", "dulcimer", "theremin", "ocarina", "bassoon", "xylophone",
	"filigree", "gossamer", "vellum", "umber", "vermilion", "cerulean",
	"obsidian", "malachite", "lapis", "tourmaline", "chalcedony", "jasper",
	"nebula", "quasar", "pulsar", "magnetar", "perihelion", "solstice",
}

// verbs are verbs in the base form, as the templates need them.
var verbs = []string{
	"check", "send", "review", "update", "fix", "add", "discuss", "share",
	"move", "test", "finish", "schedule", "confirm", "merge", "deploy",
	"approve", "prepare", "follow", "cancel", "book", "read", "write", "sign",
	"call", "meet", "plan", "start", "stop", "change", "remove", "replace",
	"install", "configure", "restart", "upgrade", "migrate", "document",
	"explain", "clarify", "summarize", "draft", "publish", "announce",
	"forward", "attach", "print", "scan", "upload", "download", "export",
	"import", "compare", "measure", "estimate", "budget", "order", "ship",
	"deliver", "return", "refund", "invoice", "pay", "renew", "extend",
	"postpone", "reschedule", "prioritize", "assign", "escalate", "resolve",
	"investigate", "debug", "profile", "benchmark", "refactor", "rewrite",
	"simplify", "optimize", "archive", "delete", "restore", "verify",
	"validate", "audit", "monitor", "track", "report", "present", "rehearse",
	"polish", "translate", "proofread", "revise", "annotate", "highlight",
	"sketch", "prototype", "iterate", "brainstorm", "organize", "host",
	"celebrate", "reconcile", "consolidate", "untangle", "calibrate",
	"triangulate", "extrapolate", "catalogue", "curate", "transcribe",
}

// adjectives qualify nouns.
var adjectives = []string{
	"new", "final", "next", "quick", "current", "old", "small", "big",
	"important", "latest", "first", "last", "short", "long", "open", "good",
	"great", "simple", "clear", "full", "free", "early", "late", "recent",
	"possible", "available", "updated", "revised", "internal", "external",
	"public", "private", "shared", "weekly", "monthly", "quarterly", "annual",
	"daily", "urgent", "minor", "major", "critical", "optional", "required",
	"pending", "approved", "rejected", "broken", "stable", "flaky", "slow",
	"fast", "expensive", "cheap", "complete", "partial", "rough", "detailed",
	"official", "informal", "remote", "local", "global", "regional", "legacy",
	"modern", "manual", "automatic", "temporary", "permanent", "secure",
	"tricky", "obvious", "subtle", "surprising", "reasonable", "generous",
	"careful", "thorough", "elegant", "clumsy", "noisy", "quiet", "bright",
	"dark", "sunny", "rainy", "cozy", "spacious", "crowded", "vintage",
	"wooden", "copper", "velvet", "marble", "ancient", "whimsical",
	"peculiar", "meticulous", "serendipitous", "luminous", "labyrinthine",
	"mercurial", "quixotic", "halcyon", "ephemeral", "gregarious",
}

// adverbs end or qualify clauses.
var adverbs = []string{
	"again", "soon", "already", "probably", "quickly", "really", "still",
	"just", "actually", "finally", "carefully", "definitely", "maybe",
	"hopefully", "today", "tomorrow", "later", "early", "together", "briefly",
	"eventually", "gradually", "immediately", "separately", "twice",
}

// prepositions link noun phrases.
var prepositions = []string{
	"for", "with", "on", "about", "in", "from", "after", "before", "during",
	"without", "under", "into", "around", "across", "behind", "beyond",
}

// modals precede verbs.
var modals = []string{"should", "could", "will", "can", "might", "would", "must"}

// subjects are the doers of sentences.
var subjects = []string{
	"we", "I", "you", "they", "the team", "everyone", "someone", "Finance",
	"Legal", "the client", "our vendor", "marketing", "support",
}

// times are deadlines and dates.
var times = []string{
	"Friday", "Monday", "tomorrow", "next week", "the end of the month",
	"noon", "the deadline", "the next sprint", "Thursday", "the offsite",
	"the board meeting", "the holidays", "end of day", "the launch",
}

// transitions open sentences.
var transitions = []string{
	"However", "Also", "In addition", "Meanwhile", "As discussed", "For now",
	"Honestly", "Otherwise", "To be fair", "By the way", "In any case",
	"On the other hand", "Unfortunately", "Luckily", "For what it's worth",
}

// accented lists English words borrowed with their accents; they put a little
// Latin-1 into otherwise English text.
var accented = []string{
	"café", "naïve", "résumé", "déjà vu", "façade", "fiancée", "jalapeño",
	"crème brûlée", "entrée", "soirée", "über", "piñata", "rôle", "coöperate",
}

// templates are English sentence patterns. Slots: {N} noun, {A} adjective,
// {V} verb, {D} adverb, {P} preposition, {M} modal, {S} subject, {T} time,
// {X} transition, {R} a noun phrase ("the budget", "a new report", ...),
// {#} a number, {K} an accented loanword. The first noun slot of a
// template that has one is where a distinctive word goes.
var templates = []string{
	"{S} {M} {V} the {N} {P} {R}.",
	"The {N} is {A} {D}.",
	"Could you {V} the {A} {N} before {T}?",
	"I think we {M} {V} {R} and {V} {R}.",
	"{X}, the {N} {P} {R} is still {A}.",
	"Please {V} the {N} {P} the {N}.",
	"From what I can see, the {N} is {A}.",
	"Did anyone {V} the {N} {P} {T}?",
	"Let me know if {S} {M} {V} the {N}.",
	"The {A} {N} {M} {V} {R} {D}.",
	"We {D} need to {V} {R}.",
	"{X}, I {M} {V} the {N} {T}.",
	"There are {#} open items on the {N}.",
	"Thanks for the {A} {N}!",
	"I moved the {N} to {R} so we can {V} it {D}.",
	"Not sure the {N} is {A} enough for {R}.",
	"The {N} from {R} looks {A} to me.",
	"Can we {V} this {P} the {A} {N}?",
	"{S} asked whether the {N} {M} be {A} by {T}.",
	"I'll {V} the {N} and {V} {R}.",
	"Attached is the {A} {N}; {V} it when you have a minute.",
	"We spent about {#} minutes on the {N} at the {K}.",
	"My {N} is {A}, so I'll {V} the {N} {D}.",
	"Quick note: the {N} {P} {R} moved to {T}.",
	"If the {N} stays {A}, {S} {M} {V} {R}.",
}

// greetings and signoffs frame English bodies.
var (
	greetings = []string{"Hi %s,", "Hello %s,", "Dear %s,", "Hey %s,", "%s,", "Good morning %s,"}
	signoffs  = []string{"Thanks,", "Best,", "Cheers,", "Regards,", "Best regards,", "Thanks again,", "Talk soon,"}
)

// subjectTemplates are English subject patterns, with the same slots as
// templates.
var subjectTemplates = []string{
	"{A} {N} for {T}",
	"Question about the {N}",
	"{N} {N} update",
	"Re-scheduling the {N}",
	"Notes from the {N} {N}",
	"Can you {V} the {N}?",
	"{A} {N} draft",
	"Invoice #{#}",
	"Your order #{#} has shipped",
	"Reminder: {N} on {T}",
	"FYI: {A} {N}",
	"{N} for {T}",
	"Proposal: {V} the {N}",
	"Action required: {N} {N}",
	"Thoughts on the {A} {N}?",
	"Weekly {N} summary",
}

// syllables spell the unique pseudo-word of each message.
var (
	consonants = "bdfgklmnprstvz"
	vowels     = "aeiou"
)
