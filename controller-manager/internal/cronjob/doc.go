// Package cronjob is the CronJob controller: it starts a Job for each
// scheduled time of a five-field schedule (or an @hourly-style macro,
// parsed by robfig/cron/v3) in the CronJob's timeZone, honouring
// concurrencyPolicy (Allow, Forbid, Replace), suspend,
// startingDeadlineSeconds and the successful/failed history limits. After
// more than 100 missed schedules it starts none and records a
// TooManyMissedTimes event. Its clock is the controller Context's, so
// tests move time on instead of waiting.
package cronjob
