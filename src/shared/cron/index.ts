export { parseSchedule, validateTimezone } from "./schedule.js";
export type { ParseScheduleOptions, Schedule } from "./schedule.js";
export { formatGoDuration, parseGoDuration } from "./duration.js";
