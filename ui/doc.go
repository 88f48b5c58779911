// Package ui is the terminal interface of letterbox: a Bubble Tea (v1)
// root model composing the folder sidebar, the virtualised message list,
// the message reader, the composer, the search prompt, the folder picker,
// the status line, the help overlay and the setup wizard.
//
// Shape (see shared/STYLE.md): one Common (size, styles, keymap, clock)
// shared by every component; each component is a concrete struct with
// Update(tea.Msg) (T, tea.Cmd) and View; the root (Model) handles global
// keys and hands the rest to the active child. Every I/O call is a
// tea.Cmd built from copied values that returns one message; results of
// requests carry a request id and stale ones are dropped; the sync
// progress and the store change feed are streamed through re-arming
// Cmds. Update never blocks and is the only place state changes.
//
// Boundaries: the package reaches mail only through the Backend interface
// (backend.go), implemented over *accounts.Account by AccountBackend
// (accounts_backend.go) and by a fake in the tests, and sets accounts up
// through Setup (AccountSetup, setup.go). It imports accounts (the value
// types Message, Mailbox, Rendered, Change and the sync progress event,
// all re-exported there) and accounts/compose (Draft), and nothing else of
// ours: never store, the sync packages, the network or server. Nothing
// imports ui but main.
//
// The one other thing it talks to is the D-Bus session bus, a local
// socket, for desktop notifications of new mail (desktop.go).
//
// While Run runs it owns the terminal: a hangup (SIGHUP) ends it as Q
// does, and the copies it hands to other programs (an HTML part for the
// browser, an attachment to open) live in a private temporary directory
// it removes before it returns.
//
// Files: common.go (Common, sizes), theme.go (Theme, Styles), keymap.go
// (KeyMaps per screen, defaults, overrides, conflicts, sequences),
// config.go (the [keys], [theme], [ui] tables), one file per component
// (sidebar.go, list.go + listrow.go + threadtree.go, reader.go +
// reflow.go + browser.go, composer.go, prompt.go for
// search/find/link/save/attach/confirm, picker.go, status.go, help.go,
// wizard.go + wizard_view.go + wizard_oauth.go, signin.go for signing an
// OAuth2 account in again, oauth_pane.go for what a running OAuth2
// sign-in shows in both: the device code, or the browser's URL with the
// pasted redirect), msgs.go (the messages), sync.go (the
// re-arming streams: sync progress, change feed), the root in model.go
// with keys.go, actions.go, undo.go, notify.go + desktop.go, syncui.go
// and view.go, and run.go (the program, the log file).
package ui
