/*
 * amdefaults.c - Alertmanager's default notification templates, as text.
 *
 * Idea: Slack and PagerDuty configurations name templates such as
 * "slack.default.title" and "__subject"; Alertmanager defines them in its
 * default.tmpl. pane writes its own definitions of those names here, in the
 * template language itself, and pane_tmpl_set_new (template.c) parses them
 * first into every set, so a user's template file can redefine any of them
 * (a later definition replaces an earlier one, as in Go).
 * Deliberately elsewhere: parsing and running them (template.c), the
 * functions they call (tmplfuncs.c).
 */
#include "alert/tmpl_internal.h"

/* Alertmanager's default templates (the names its default.tmpl defines that
 * Slack and PagerDuty configurations refer to), written from its documented
 * defaults: the subject "[FIRING:n] group values (other common values)", a
 * link to the alert list, and a plain-text alert list. */
const char tmpl_am_defaults[] =
    "{{ define \"__alertmanager\" }}Alertmanager{{ end }}"
    "{{ define \"__alertmanagerURL\" }}{{ .ExternalURL }}/#/alerts?receiver={{ .Receiver | urlquery }}{{ end }}"
    "{{ define \"__subject\" }}[{{ .Status | toUpper }}{{ if eq .Status \"firing\" }}:{{ .Alerts.Firing | len }}"
    "{{ end }}] {{ .GroupLabels.SortedPairs.Values | join \" \" }} {{ if gt (len .CommonLabels) (len .GroupLabels) }}"
    "({{ with .CommonLabels.Remove .GroupLabels.Names }}{{ .Values | join \" \" }}{{ end }}){{ end }}{{ end }}"
    "{{ define \"__description\" }}{{ end }}"
    "{{ define \"__text_alert_list\" }}{{ range . }}Labels:\n"
    "{{ range .Labels.SortedPairs }} - {{ .Name }} = {{ .Value }}\n"
    "{{ end }}Annotations:\n"
    "{{ range .Annotations.SortedPairs }} - {{ .Name }} = {{ .Value }}\n"
    "{{ end }}Source: {{ .GeneratorURL }}\n{{ end }}{{ end }}"
    "{{ define \"slack.default.title\" }}{{ template \"__subject\" . }}{{ end }}"
    "{{ define \"slack.default.username\" }}{{ template \"__alertmanager\" . }}{{ end }}"
    "{{ define \"slack.default.fallback\" }}{{ template \"slack.default.title\" . }} | "
    "{{ template \"slack.default.titlelink\" . }}{{ end }}"
    "{{ define \"slack.default.callbackid\" }}{{ end }}"
    "{{ define \"slack.default.pretext\" }}{{ end }}"
    "{{ define \"slack.default.titlelink\" }}{{ template \"__alertmanagerURL\" . }}{{ end }}"
    "{{ define \"slack.default.iconemoji\" }}{{ end }}"
    "{{ define \"slack.default.iconurl\" }}{{ end }}"
    "{{ define \"slack.default.text\" }}{{ end }}"
    "{{ define \"slack.default.footer\" }}{{ end }}"
    "{{ define \"pagerduty.default.description\" }}{{ template \"__subject\" . }}{{ end }}"
    "{{ define \"pagerduty.default.client\" }}{{ template \"__alertmanager\" . }}{{ end }}"
    "{{ define \"pagerduty.default.clientURL\" }}{{ template \"__alertmanagerURL\" . }}{{ end }}"
    "{{ define \"pagerduty.default.instances\" }}{{ template \"__text_alert_list\" . }}{{ end }}"
    "{{ define \"webhook.default.message\" }}{{ end }}";
