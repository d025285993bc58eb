module github.com/touchtrail/touchtrail/sdk

go 1.22
