// Notifications: email and webhooks about executions, with Dkron's templates.
export { DEFAULT_MAIL_SUBJECT_PREFIX, mailSubject, Notifier, webhookHeaders, type NotifyConfig } from "./notifier.js";
export { renderTemplate, report, templateData, type TemplateData } from "./template.js";
