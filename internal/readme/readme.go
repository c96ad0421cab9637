// Package readme keeps README.md honest: its tests run the shell blocks
// that README marks as runnable, as written, in a copy of the repository,
// and check the make targets a newcomer reaches for. It has no code of its
// own beside this comment.
//
// A block is marked by an HTML comment on the line before its opening
// fence, which renders as nothing:
//
//	<!-- readme-test: run -->               runs; must exit 0
//	<!-- readme-test: run expect "TEXT" --> also prints TEXT
//	<!-- readme-test: serve HOST:PORT -->   starts, must listen on HOST:PORT,
//	                                        and runs until the test ends
package readme
