package cache

// LostNotice is the one wording of a cache loss told to the user (the app's
// lasting notice): what was lost, why, and what happens next. Every cause —
// a damaged file, a key gone from the keychain, files deleted outside the
// app — words its notice through it, so that they all read alike.
func LostNotice(what, why string) string {
	return what + ": " + why + ". Everything is fetched again from the platform at the next sync; until then nothing is cached."
}
