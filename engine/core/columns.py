"""Column-name constants shared by every table in Prism."""

# items table
ITEM_ID = "item_id"
TITLE = "title"
DESCRIPTION = "description"
CATEGORY = "category"
BRAND = "brand"
PRICE = "price"
PROMO = "promo"

# events table
USER_ID = "user_id"
TIMESTAMP = "timestamp"  # Unix seconds
DAY = 86_400  # seconds in a day, for timestamps
EVENT = "event"
WEIGHT = "weight"

# derived
CATEGORY_LEVELS = "category_levels"
DIV_CATEGORY = "div_category"

ITEM_REQUIRED = (ITEM_ID, TITLE)
ITEM_OPTIONAL = (DESCRIPTION, CATEGORY, BRAND, PRICE, PROMO)
EVENT_REQUIRED = (USER_ID, ITEM_ID)
EVENT_OPTIONAL = (TIMESTAMP, EVENT, WEIGHT)

EVENT_TYPES = ("view", "click", "cart", "purchase")
DEFAULT_EVENT_WEIGHTS = {"view": 1.0, "click": 2.0, "cart": 3.0, "purchase": 4.0}

CATEGORY_SEP = " > "
MULTI_CATEGORY_SEP = " | "
UNKNOWN_CATEGORY = "unknown"
