// Package ingest is the push API's edge: POST /api/v1/metrics takes one
// tick or an array of ticks as JSON or MessagePack, validates the whole
// request and only then publishes every tick on <prefix>.metrics.<app>.<tier>.
// A bad request publishes nothing and answers a JSON error naming the field.
//
// Parse holds the rules and takes the current time as a value, so it is a
// pure function tested alone; Handler adds the HTTP concerns (token, body
// size, content type, status codes) and calls a Publisher.
package ingest
