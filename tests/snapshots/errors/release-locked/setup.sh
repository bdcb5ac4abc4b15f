git init -q -b main
git add -A
git commit -q -m "Initial commit"
git init -q --bare -b main ../origin.git
git remote add origin ../origin.git
git push -q -u origin main
# what the other process wrote beside the lock it holds (the test holds the lock itself)
mkdir -p .shipit
echo '{"pid": 48213, "host": "build-box", "command": "release", "since": "2025-03-14T09:26:53Z"}' > .shipit/lock.json
