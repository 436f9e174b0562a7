"""Vocabulary of the synthetic shop: 8 departments, 40 leaf categories.

Each department has its own brands, adjectives, materials and selling points; each leaf its
own product nouns, uses and a typical price. Words are shared within a department and differ
across departments, so a text encoder finds the category structure in titles alone.
"""

from __future__ import annotations

# leaf: (nouns, uses, median price)
Leaf = tuple[str, str, float]

DEPARTMENTS: dict[str, dict[str, object]] = {
    "Kitchen": {
        "brands": "Copperleaf|Hart & Finch|Mill Lane|Saltbox|Ovenbird|Kestrel Kitchen",
        "adjectives": "non-stick|heavy-duty|professional|compact|dishwasher-safe|induction-ready",
        "materials": "stainless steel|cast iron|ceramic|bamboo|borosilicate glass|copper",
        "features": "Stay-cool handle|Even heat distribution|Oven safe to 260 C|"
                    "Easy to clean|Lifetime warranty",
        "leaves": {
            "Cookware": ("frying pan|skillet|saucepan|wok|dutch oven|stockpot",
                         "searing steaks|simmering sauces|everyday family cooking", 45.0),
            "Knives": ("chef knife|paring knife|bread knife|santoku knife|knife block set",
                       "slicing vegetables|carving roasts|precise prep work", 38.0),
            "Coffee & Tea": ("coffee grinder|french press|pour-over kettle|espresso cups|"
                             "tea infuser", "brewing morning coffee|loose-leaf tea|"
                             "slow weekend brunches", 32.0),
            "Bakeware": ("baking sheet|cake pan|muffin tin|loaf pan|rolling pin",
                         "baking bread|holiday cookies|layer cakes", 22.0),
            "Tableware": ("dinner plates|serving bowl|coffee mug set|serving platter|"
                          "wine glasses", "dinner parties|everyday meals|hosting guests", 28.0),
        },
    },
    "Electronics": {
        "brands": "Voltix|Nordwave|Pixelon|Auralink|Quanta & Co|Brightcore",
        "adjectives": "wireless|fast-charging|noise-cancelling|4K|Bluetooth 5.3|ultra-slim",
        "materials": "aluminium|polycarbonate|tempered glass|silicone|braided nylon|ABS plastic",
        "features": "USB-C charging|Two-year warranty|Works with iOS and Android|"
                    "Low-latency connection|Firmware updates over the air",
        "leaves": {
            "Headphones": ("over-ear headphones|earbuds|gaming headset|sport earphones",
                           "commuting|long flights|focused work calls", 79.0),
            "Phone Accessories": ("phone case|charging cable|power bank|screen protector|"
                                  "car phone mount", "daily phone use|road trips|travel", 18.0),
            "Cameras": ("action camera|camera lens|travel tripod|camera bag|memory card",
                        "vlogging|landscape photography|capturing family trips", 120.0),
            "Smart Home": ("smart plug|smart bulb|video doorbell|smart thermostat|"
                           "motion sensor", "home automation|saving energy|home security", 35.0),
            "Computer Accessories": ("mechanical keyboard|wireless mouse|USB-C hub|"
                                     "monitor stand|laptop sleeve",
                                     "home office setups|gaming|productive workdays", 42.0),
        },
    },
    "Fashion": {
        "brands": "Linden & Rowe|Marlow|Atelier Nord|Juniper Lane|Cobalt Thread|Ashby",
        "adjectives": "slim-fit|waterproof|lightweight|breathable|vintage|oversized",
        "materials": "organic cotton|merino wool|vegan leather|denim|recycled polyester|linen",
        "features": "Machine washable|Ethically made|True to size|Reinforced seams|"
                    "Available in six colours",
        "leaves": {
            "Sneakers": ("running sneakers|canvas sneakers|high-top sneakers|slip-on shoes",
                         "city walks|casual weekends|all-day comfort", 85.0),
            "Jackets": ("rain jacket|puffer jacket|denim jacket|bomber jacket|trench coat",
                        "rainy commutes|cold winters|layering in spring", 110.0),
            "Dresses": ("midi dress|wrap dress|maxi dress|shirt dress|cocktail dress",
                        "summer evenings|office days|weddings", 65.0),
            "Bags": ("backpack|tote bag|crossbody bag|weekender bag|wallet",
                     "daily commuting|weekend getaways|carrying a laptop", 55.0),
            "Watches": ("analog watch|chronograph watch|minimalist watch|watch strap",
                        "everyday wear|formal occasions|gift giving", 140.0),
        },
    },
    "Sports & Outdoors": {
        "brands": "Trailborn|Summitex|Peak & Pine|Riverstone|Fjellway|Kinetic Labs",
        "adjectives": "ultralight|weatherproof|packable|ergonomic|high-visibility|rugged",
        "materials": "ripstop nylon|carbon fibre|aluminium alloy|EVA foam|neoprene|Gore-Tex",
        "features": "Tested in the Alps|Packs into its own pouch|Reflective details|"
                    "Lifetime repair programme|Weighs under 500 g",
        "leaves": {
            "Running": ("running vest|hydration belt|running shorts|trail shoes|"
                        "compression socks", "marathon training|trail runs|early morning jogs",
                        40.0),
            "Camping": ("two-person tent|sleeping bag|camping stove|headlamp|camp chair",
                        "backpacking trips|family camping|festival weekends", 95.0),
            "Cycling": ("bike helmet|bike lights|cycling gloves|saddle bag|bike pump",
                        "road cycling|mountain biking|city commuting by bike", 45.0),
            "Yoga": ("yoga mat|yoga blocks|resistance bands|foam roller|meditation cushion",
                     "home workouts|stretching|pilates classes", 30.0),
            "Fishing": ("fishing rod|fishing reel|tackle box|fishing line|landing net",
                        "fly fishing|lake fishing|weekend angling", 60.0),
        },
    },
    "Beauty": {
        "brands": "Lumiere & Co|Botaniq|Velvette|Aurora Skin|Maison Rose|Purelab",
        "adjectives": "hydrating|fragrance-free|vegan|dermatologist-tested|long-lasting|gentle",
        "materials": "hyaluronic acid|shea butter|vitamin C|argan oil|aloe vera|niacinamide",
        "features": "Cruelty-free|Suitable for sensitive skin|Paraben-free|"
                    "Recyclable packaging|Made in France",
        "leaves": {
            "Skincare": ("face serum|moisturiser|cleanser|sunscreen SPF 50|eye cream",
                         "daily skincare routines|dry skin|night-time repair", 26.0),
            "Haircare": ("shampoo|conditioner|hair mask|hair oil|hair dryer",
                         "curly hair|colour-treated hair|frizz control", 18.0),
            "Makeup": ("lipstick|mascara|foundation|eyeshadow palette|makeup brush set",
                       "everyday looks|evening makeup|long days", 21.0),
            "Fragrance": ("eau de parfum|eau de toilette|body mist|scented candle",
                          "special evenings|signature scents|gift giving", 58.0),
            "Shaving": ("safety razor|shaving cream|beard oil|electric shaver|aftershave balm",
                        "a close shave|beard grooming|sensitive skin", 24.0),
        },
    },
    "Home & Garden": {
        "brands": "Oakhaven|Fern & Field|Nestwell|Greystone Home|Willowmere|Hearthside",
        "adjectives": "handcrafted|Scandinavian|weather-resistant|space-saving|cosy|modern",
        "materials": "solid oak|rattan|washed linen|galvanised steel|terracotta|wool",
        "features": "Easy assembly|Fade-resistant finish|Designed in Copenhagen|"
                    "Sustainably sourced|Ten-year guarantee",
        "leaves": {
            "Bedding": ("duvet cover|pillow set|fitted sheet|weighted blanket|mattress topper",
                        "restful sleep|guest rooms|cold nights", 60.0),
            "Lighting": ("floor lamp|table lamp|pendant light|LED string lights|wall sconce",
                         "reading corners|living rooms|warm evening light", 48.0),
            "Garden Tools": ("pruning shears|garden hose|watering can|spade|garden gloves",
                             "vegetable gardens|lawn care|pruning roses", 25.0),
            "Storage": ("storage baskets|shoe rack|wall shelf|drawer organiser|storage bench",
                        "small apartments|tidy closets|entryways", 35.0),
            "Decor": ("wall art print|plant pot|throw pillow|decorative vase|wall mirror",
                      "living room styling|housewarming gifts|bright spaces", 30.0),
        },
    },
    "Toys & Games": {
        "brands": "Brickbright|Puzzleworks|Tumble & Tot|Wonderkin|Gamewright Hall|Little Otter",
        "adjectives": "educational|award-winning|family-friendly|colourful|STEM|classic",
        "materials": "beech wood|recycled cardboard|soft plush|BPA-free plastic|felt|cotton",
        "features": "Ages 6 and up|Safety tested to EN71|Hours of screen-free fun|"
                    "Includes storage box|Two to six players",
        "leaves": {
            "Building Sets": ("building blocks|construction kit|marble run|magnetic tiles",
                              "creative play|STEM learning|rainy afternoons", 40.0),
            "Board Games": ("strategy board game|party game|card game|cooperative game",
                            "family game nights|parties|game clubs", 32.0),
            "Puzzles": ("1000-piece puzzle|3D puzzle|wooden brain teaser|jigsaw puzzle",
                        "quiet evenings|puzzle lovers|relaxing weekends", 20.0),
            "Plush Toys": ("teddy bear|plush dinosaur|stuffed bunny|plush unicorn",
                           "bedtime cuddles|baby showers|birthday gifts", 16.0),
            "Outdoor Play": ("kite|water blaster|balance bike|trampoline|sandbox set",
                             "summer gardens|beach days|active kids", 55.0),
        },
    },
    "Pet Supplies": {
        "brands": "Pawsome|Whisker & Wag|Barkley Co|Felinity|Tailwind Pets|Happy Hound",
        "adjectives": "chew-resistant|orthopaedic|washable|interactive|non-slip|calming",
        "materials": "natural rubber|memory foam|sisal rope|stainless steel|fleece|hemp",
        "features": "Vet recommended|Machine-washable cover|Non-toxic materials|"
                    "Fits small and large breeds|Satisfaction guaranteed",
        "leaves": {
            "Dog Toys": ("chew toy|rope toy|squeaky ball|puzzle feeder|fetch launcher",
                         "teething puppies|playful dogs|long walks", 14.0),
            "Cat Furniture": ("cat tree|scratching post|cat tunnel|window perch|cat shelf",
                              "indoor cats|climbing|scratching", 50.0),
            "Pet Beds": ("dog bed|cat bed|pet blanket|travel crate mat|donut bed",
                         "senior dogs|napping cats|car journeys", 45.0),
            "Aquarium": ("aquarium filter|fish tank|aquarium heater|LED aquarium light",
                         "tropical fish|planted tanks|home aquariums", 65.0),
            "Grooming": ("pet brush|nail clipper|pet shampoo|deshedding tool|grooming glove",
                         "shedding season|bath time|long-haired breeds", 17.0),
        },
    },
}

COLOURS = ("Black", "White", "Navy", "Sage Green", "Charcoal", "Terracotta", "Sand", "Red",
           "Sky Blue", "Mustard")
