// Package reclaim plans, applies and undoes the removal of idle or outside
// seats: the plan a person reviews and edits (a CSV file), the exclude list
// of people never to touch, and the journal of every action taken, from
// which a second run, undo and the exporter's metrics read what was done.
//
// Every file here is read as outside input: bounded, validated field by
// field, and refused with the file, the line and what to fix. No error
// quotes a cell, since the files hold names, emails and user gids.
package reclaim
