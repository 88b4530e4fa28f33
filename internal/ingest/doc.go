// Package ingest is the push API's edge: POST /api/v1/metrics takes one
// tick or an array of ticks as JSON or MessagePack, validates the whole
// request and only then publishes every tick on <prefix>.metrics.<app>.<tier>.
// A bad request publishes nothing and answers a JSON error naming the field;
// a body naming a key twice in one object or map, at any depth, is refused
// (400 on the key's path) rather than read as its last value.
//
// Scan and Parse hold the rules and take the current time as a value, so
// they are pure functions tested alone. Handler adds the HTTP guards, all
// checked before the body is read where they can be: POST only (405), an
// allowed Host (403, internal/hostcheck, against DNS rebinding), no
// foreign browser Origin (403), JSON or msgpack bodies only (415), the
// token (401), a cap on concurrent requests (429) and body size and time
// (413, 408); then apps fed by another source (409) and series limits
// (422, internal/limits). The body is checked tick by tick as it arrives
// and decoded again to publish, so memory per request is bounded by its
// size. RequireToken and RequireTokenOn tell a service when it must not
// start without a token.
package ingest
