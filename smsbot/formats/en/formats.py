# One clock for the whole admin (smsbot.timezones formats with these; Django's own
# lists, read-only fields and `date` filter use them too):
#   a datetime: "Sun 6 Dec 2026, 04:12 CST"  (OPS_TIMEZONE, 24-hour, zone named)
#   a date:     "Sun 6 Dec 2026"
# Day before month with the month in letters, so no reader takes 12/01 for 1 December
# or 12 January. Times are shown in OPS_TIMEZONE while they are stored in UTC, and the
# daily send has its own zone, so a bare "04:12" would be ambiguous: "T" is the zone's
# abbreviation for that very moment (CST in winter, CDT in summer).
DATE_FORMAT = "D j M Y"
DATETIME_FORMAT = "D j M Y, H:i T"
TIME_FORMAT = "H:i T"
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
YEAR_MONTH_FORMAT = "M Y"
MONTH_DAY_FORMAT = "D j M"  # chart axes and the dashboard's week: the year is the page's

# Typed (and shown in inputs and the admin's date picker) as ISO dates and 24-hour
# times: the first entry is what an input shows; "12/01/2026" is not read at all.
DATE_INPUT_FORMATS = ["%Y-%m-%d"]
TIME_INPUT_FORMATS = ["%H:%M", "%H:%M:%S"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
