# Every date and time the admin shows names its zone ("Nov 28, 2026, 10:02 a.m. CST"):
# times are shown in OPS_TIMEZONE while they are stored in UTC, and the daily send
# has its own zone, so a bare "10:02 a.m." would be ambiguous. "T" is the zone's
# abbreviation for that very moment (CST in winter, CDT in summer).
DATETIME_FORMAT = "M j, Y, P T"
