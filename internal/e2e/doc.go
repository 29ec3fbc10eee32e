// Package e2e holds end-to-end tests that run the whole product in real
// headless Chromium browsers against the real server and database.
package e2e
