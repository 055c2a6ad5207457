const formatters = new Map<string, Intl.DateTimeFormat>();

/** A deadline as people read it, in the agreement's time zone: "Mon, Nov 23, 2:59 PM EST". */
export function formatDeadline(at: Date, timeZone: string): string {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      weekday: 'short',
      month: 'short',
      day: 'numeric',
      hour: 'numeric',
      minute: '2-digit',
      timeZone,
      timeZoneName: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f.format(at);
}
